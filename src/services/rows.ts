import { boundKey, isUuid, keySpellings } from '../crypto/index.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { COLLECTIONS } from '../schema/collections.js';
import type { UserCaller } from './caller.js';
import { itemsService, type ServiceDeps } from './deps.js';

type Row = Record<string, unknown>;

/** A row as the system reads it (ciphertext included), with its primary key exactly as the database holds it. */
export interface RawRow {
	key: string;
	row: Row;
}

/**
 * A filter on a key in any of its spellings. PostgreSQL's uuid type and MariaDB's collation already
 * match a UUID whatever its case, SQLite does not: the same key must find the same row everywhere.
 */
export function keyFilter(field: string, id: string): Record<string, unknown> {
	const spellings = keySpellings(id);
	return { [field]: spellings.length === 1 ? { _eq: id } : { _in: spellings } };
}

/** Columns knex returns exactly as Directus would (no casting, no date formatting). */
const TEXT_TYPES = new Set(['string', 'text', 'uuid']);

/**
 * A reveal reads one row by key as the system: no permissions, no hooks. Through ItemsService that
 * costs about a tenth of the request (query AST, payload processing), so rows whose wanted columns are
 * all text are read with one plain SELECT instead. Typed columns (dates, JSON, numbers) and keys a
 * uuid column would refuse go through ItemsService, which casts and validates them as Directus does.
 */
async function readByKey(deps: ServiceDeps, collection: string, pk: string, id: string, fields: string[]): Promise<Row[]> {
	const spellings = keySpellings(id);
	const known = deps.schema.collections[collection]?.fields ?? {};
	const keyFits = known[pk]?.type === 'uuid' ? isUuid(id) : TEXT_TYPES.has(known[pk]?.type as string);
	// `conceal` fields come back masked from ItemsService: they go that way to read the same.
	const plain = (f: string) => TEXT_TYPES.has(known[f]?.type as string) && !known[f]?.special?.includes('conceal');
	if (keyFits && fields.every(plain))
		return (await deps.database(collection).select(fields).whereIn(pk, spellings).limit(spellings.length)) as Row[];
	return (await itemsService(deps, collection, null).readByQuery({ filter: keyFilter(pk, id), fields, limit: spellings.length }, { emitEvents: false })) as Row[];
}

/**
 * Reads one row as the system, or answers 404. The key comes back as stored: values are bound to
 * the row's own key, never to the spelling a caller typed.
 */
export async function readRaw(deps: ServiceDeps, collection: string, id: string, fields: string[], notFound = 'Not found'): Promise<RawRow> {
	const pk = deps.schema.collections[collection]?.primary ?? 'id';
	const rows = await readByKey(deps, collection, pk, id, [...new Set([pk, ...fields])]);
	// A case-sensitive database may hold keys differing only in case (rows created before keys were canonical): the exact spelling first.
	const row = rows.find((r) => String(r[pk]) === id) ?? rows.find((r) => boundKey(String(r[pk])) === boundKey(id));
	if (!row) throw new NotFoundError({ reason: notFound });
	return { key: String(row[pk]), row };
}

/**
 * The seed's contract distinguishes a missing row (404) from someone else's (403), so the row is
 * looked up first; the caller's own ItemsService call that follows enforces ownership again.
 * Returns the row's key as stored, for the writes that follow.
 */
export async function assertCallerMayTouch(deps: ServiceDeps, collection: string, id: string, { accountability }: UserCaller): Promise<string> {
	const ownerField = COLLECTIONS.find((c) => c.collection === collection)!.ownerField;
	const { key, row } = await readRaw(deps, collection, id, [ownerField]);
	if (!accountability.admin && row[ownerField] !== accountability.user) throw new ForbiddenError({ reason: 'Forbidden' });
	return key;
}
