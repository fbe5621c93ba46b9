import { randomUUID } from 'node:crypto';
import type { Accountability, SchemaOverview } from '@directus/types';
import { makeKeyring, type Keyring } from '../../../src/crypto/index.js';
import { BUILT_IN_PROTECTED_FIELDS, ProtectedFields } from '../../../src/schema/protected-fields.js';
import { COLLECTIONS, INTERNAL_COLLECTIONS } from '../../../src/schema/collections.js';
import type { ServiceDeps } from '../../../src/services/deps.js';
import type { ServerCaller, UserCaller } from '../../../src/services/caller.js';

/**
 * A small in-memory stand-in for the part of Directus the services use: `ItemsService`
 * (readByQuery with `_eq`/`_in`/`_null`/`_and` filters, sort, limit and page; readOne, createOne,
 * updateOne, deleteOne), the activity insert of the audit and a select of rows by key. It applies no permissions and no
 * hook: it is for the services' own decisions. Their behaviour against real Directus is the
 * integration suites' job.
 */
type Row = Record<string, unknown>;
type Filter = Record<string, any>;

export class StandIn {
	readonly tables = new Map<string, Row[]>();
	/** What the next createOne of a collection throws (a Directus error shape), once. */
	readonly failNextCreate = new Map<string, unknown>();
	/** How many reads went through ItemsService and how many through a plain select. */
	readonly reads = { items: 0, select: 0 };

	table(name: string): Row[] {
		if (!this.tables.has(name)) this.tables.set(name, []);
		return this.tables.get(name)!;
	}

	deps(ring: Keyring = makeKeyring(Buffer.alloc(32, 7))): ServiceDeps {
		const standIn = this;
		class ItemsService {
			constructor(
				readonly collection: string,
				readonly options: { accountability: Accountability | null },
			) {}
			async readByQuery(query: { filter?: Filter; fields?: string[]; sort?: string[]; limit?: number; page?: number }) {
				standIn.reads.items++;
				let rows = standIn.table(this.collection).filter((row) => matches(row, query.filter));
				for (const key of [...(query.sort ?? [])].reverse()) {
					const [field, dir] = key.startsWith('-') ? [key.slice(1), -1] : [key, 1];
					rows = [...rows].sort((a, b) => (String(a[field] ?? '') < String(b[field] ?? '') ? -dir : String(a[field] ?? '') > String(b[field] ?? '') ? dir : 0));
				}
				const limit = query.limit === undefined || query.limit === -1 ? rows.length : query.limit;
				const start = ((query.page ?? 1) - 1) * limit;
				return rows.slice(start, start + limit).map((row) => (query.fields ? Object.fromEntries(query.fields.map((f) => [f, row[f] ?? null])) : { ...row }));
			}
			async readOne(key: string) {
				const row = standIn.table(this.collection).find((r) => r['id'] === key);
				if (!row) throw Object.assign(new Error('forbidden'), { code: 'FORBIDDEN' });
				return { ...row };
			}
			async createOne(data: Row) {
				const failure = standIn.failNextCreate.get(this.collection);
				if (failure) {
					standIn.failNextCreate.delete(this.collection);
					throw failure;
				}
				const id = (data['id'] as string) ?? randomUUID();
				const owner = this.options.accountability?.user ?? null;
				standIn.table(this.collection).push({ id, owner, user_id: owner, date_created: new Date().toISOString(), ...data });
				return id;
			}
			async updateOne(key: string, data: Row) {
				const row = standIn.table(this.collection).find((r) => r['id'] === key);
				if (row) Object.assign(row, data);
				return key;
			}
			async deleteOne(key: string) {
				const table = standIn.table(this.collection);
				table.splice(table.findIndex((r) => r['id'] === key), 1);
				return key;
			}
		}
		// knex, as far as the services use it: the audit's insert (on a connection it holds), and selects by
		// equality, null and key lists, in order, paged; a query runs when it is awaited, as knex's do.
		const insert = (name: string, rows: Row | Row[]) => {
			const done = Promise.resolve().then(() => void standIn.table(name).push(...[rows].flat()));
			return Object.assign(done, { connection: () => done });
		};
		type Order = { column: string; order?: 'asc' | 'desc' };
		const query = (name: string) => {
			const tests: ((row: Row) => boolean)[] = [];
			let fields: string[] = [];
			let orders: Order[] = [];
			let limit = Infinity;
			let offset = 0;
			const compare = (a: Row, b: Row) => {
				for (const { column, order } of orders) {
					const by = String(a[column] ?? '').localeCompare(String(b[column] ?? ''));
					if (by !== 0) return order === 'desc' ? -by : by;
				}
				return 0;
			};
			const run = () => {
				standIn.reads.select++;
				const rows = standIn.table(name).filter((row) => tests.every((test) => test(row)));
				return [...rows].sort(compare).slice(offset, offset + limit).map((row) => Object.fromEntries(fields.map((f) => [f, row[f] ?? null])));
			};
			const chain = {
				insert: (rows: Row | Row[]) => insert(name, rows),
				select: (...wanted: (string | string[])[]) => ((fields = wanted.flat()), chain),
				where: (conditions: Row) => (tests.push((row) => Object.entries(conditions).every(([f, v]) => row[f] === v)), chain),
				andWhere: (field: string, value: unknown) => (tests.push((row) => row[field] === value), chain),
				whereNull: (field: string) => (tests.push((row) => (row[field] ?? null) === null), chain),
				whereIn: (field: string, values: unknown[]) => (tests.push((row) => values.includes(row[field])), chain),
				orderBy: (by: string | Order[]) => ((orders = typeof by === 'string' ? [{ column: by }] : by), chain),
				limit: (n: number) => ((limit = n), chain),
				offset: (n: number) => ((offset = n), chain),
				first: async () => ((limit = 1), run()[0]),
				then: <T>(resolve: (rows: Row[]) => T, reject: (error: unknown) => T) => Promise.resolve().then(run).then(resolve, reject),
			};
			return chain;
		};
		const client = { acquireConnection: async () => ({}), releaseConnection: async () => undefined };
		const database = Object.assign(query, { client }) as unknown as ServiceDeps['database'];
		return { services: { ItemsService }, database, schema: schemaOf(), keys: { ok: true, ring }, fields: new ProtectedFields([...BUILT_IN_PROTECTED_FIELDS]), directusSecret: null };
	}
}

function matches(row: Row, filter: Filter | undefined): boolean {
	if (!filter) return true;
	return Object.entries(filter).every(([key, condition]) => {
		if (key === '_and') return (condition as Filter[]).every((f) => matches(row, f));
		if (key === '_or') return (condition as Filter[]).some((f) => matches(row, f));
		const value = row[key] ?? null;
		if ('_eq' in condition) return value === condition._eq;
		if ('_in' in condition) return (condition._in as unknown[]).includes(value);
		if ('_null' in condition) return (value === null) === condition._null;
		throw new Error(`the stand-in does not know the filter ${JSON.stringify(condition)}`);
	});
}

/** The extension's collections as Directus's schema overview names them: primary keys and field types. */
function schemaOf(): SchemaOverview {
	const collections = Object.fromEntries(
		[...COLLECTIONS, ...INTERNAL_COLLECTIONS].map(({ collection, fields }) => [
			collection,
			{ collection, primary: fields[0]!.field, fields: Object.fromEntries(fields.map((f) => [f.field, { field: f.field, type: f.type, special: [] }])) },
		]),
	);
	return { collections, relations: [] } as unknown as SchemaOverview;
}

export const userCaller = (user: string, admin = false): UserCaller => ({
	kind: 'user',
	user,
	accountability: { user, admin, role: null, roles: [], app: false, ip: '127.0.0.1' } as unknown as Accountability,
	ip: '127.0.0.1',
	userAgent: 'unit',
});
export const serverCaller: ServerCaller = { kind: 'server', user: null, identity: null, ip: '10.0.0.1', userAgent: 'worker' };
