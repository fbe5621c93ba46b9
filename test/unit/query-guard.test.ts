import type { SchemaOverview } from '@directus/types';
import { describe, expect, it } from 'vitest';
import { guardMetaCounts } from '../../src/hook/handlers/guard-counts.js';
import { guardQuery, refuseProtectedFieldQuery } from '../../src/hook/handlers/query-guard.js';
import { ProtectedFields } from '../../src/schema/protected-fields.js';

const fields = new ProtectedFields([
	{ collection: 'platform_connections', field: 'encrypted_credentials' },
	{ collection: 'platform_sessions', field: 'encrypted_cookies' },
]);
// Just what the check reads: sessions → connection (m2o), and its o2m alias `sessions`.
const schema = {
	collections: {
		platform_connections: { fields: { encrypted_credentials: { searchable: false }, platform: { searchable: true } } },
		platform_sessions: { fields: { encrypted_cookies: { searchable: true } } },
	},
	relations: [{ collection: 'platform_sessions', field: 'creator_profile_id', related_collection: 'platform_connections', meta: { one_field: 'sessions' } }],
} as unknown as SchemaOverview;
// Enough of the schema for nested reads: users → connections (o2m via owner) → sessions (o2m) → back to the connection (m2o).
const fullSchema = {
	collections: { platform_connections: { fields: {} }, platform_sessions: { fields: {} }, directus_users: { fields: {} } },
	relations: [
		...schema.relations,
		{ collection: 'platform_connections', field: 'owner', related_collection: 'directus_users', meta: { one_field: 'connections' } },
	],
} as unknown as SchemaOverview;
const user = { user: 'u1', role: null, admin: false } as never;
const admin = { user: 'a1', role: null, admin: true } as never;

const refused = (collection: string, query: object, accountability = user) => {
	expect(() => refuseProtectedFieldQuery(fields, schema, collection, query, accountability)).toThrow(expect.objectContaining({ status: 400, code: 'INVALID_QUERY' }));
};
const allowed = (collection: string, query: object) => expect(() => refuseProtectedFieldQuery(fields, schema, collection, query, user)).not.toThrow();

describe('queries on protected fields', () => {
	it('are refused in filter, sort, group and aggregate, for admins too', () => {
		for (const who of [user, admin]) {
			refused('platform_connections', { filter: { encrypted_credentials: { _starts_with: 'c' } } }, who);
			refused('platform_connections', { filter: { _and: [{ platform: { _eq: 'x' } }, { _or: [{ encrypted_credentials: { _null: true } }] }] } }, who);
			refused('platform_connections', { sort: ['-encrypted_credentials'] }, who);
			refused('platform_connections', { group: ['encrypted_credentials'] }, who);
			refused('platform_connections', { aggregate: { max: ['encrypted_credentials'] } }, who);
			refused('platform_connections', { filter: { 'length(encrypted_credentials)': { _gt: 10 } } }, who);
		}
	});

	it('are refused through relations and deep queries', () => {
		refused('platform_sessions', { filter: { creator_profile_id: { encrypted_credentials: { _nnull: true } } } });
		refused('platform_sessions', { sort: ['creator_profile_id.encrypted_credentials'] });
		refused('platform_connections', { filter: { sessions: { _some: { encrypted_cookies: { _nnull: true } } } } });
		refused('platform_connections', { deep: { sessions: { _filter: { encrypted_cookies: { _eq: 'x' } } } } });
		refused('platform_connections', { deep: { sessions: { _sort: ['encrypted_cookies'] } } });
		refused('platform_connections', { deep: { sessions: { creator_profile_id: { _filter: { encrypted_credentials: { _eq: 'x' } } } } } });
	});

	it('search is refused while a protected field of the collection is still searchable', () => {
		allowed('platform_connections', { search: 'alice' });
		refused('platform_sessions', { search: 'cookie' });
		refused('platform_connections', { deep: { sessions: { _search: 'cookie' } } });
	});

	it('other fields, counts of rows, and internal calls pass', () => {
		allowed('platform_connections', { filter: { platform: { _eq: 'encrypted_credentials' } }, sort: ['-date_created'], aggregate: { count: ['*'] }, group: ['platform'] });
		allowed('platform_sessions', { filter: { creator_profile_id: { platform: { _eq: 'x' } } }, deep: { creator_profile_id: { _filter: { id: { _nnull: true } } } } });
		allowed('other', { filter: { encrypted_credentials: { _eq: 'x' } } });
		expect(() => refuseProtectedFieldQuery(fields, schema, 'platform_connections', { filter: { encrypted_credentials: { _nnull: true } } }, null)).not.toThrow();
	});

	it('the query guard also limits a user to their own rows', () => {
		expect(guardQuery(fields, { filter: { platform: { _eq: 'x' } } }, 'platform_connections', { schema, accountability: user }).filter).toEqual({ _and: [{ platform: { _eq: 'x' } }, { owner: { _eq: 'u1' } }] });
		expect(guardQuery(fields, {}, 'platform_connections', { schema, accountability: admin })).toEqual({});
	});
});

describe('the MetaService count seam', () => {
	class FakeMetaService {
		accountability = user;
		schema = schema;
		seen: object[] = [];
		async filterCount(_collection: string, query: object) {
			this.seen.push(query);
			return 0;
		}
		totalCount(collection: string) {
			return this.filterCount(collection, {});
		}
	}

	it('guards every count, total counts included, and wraps Directus’s method only once across reloads', async () => {
		const guard = (query: object, collection: string, context: { accountability: unknown }) => guardQuery(fields, query, collection, context as never);
		expect(guardMetaCounts(FakeMetaService, guard)).toBe(true);
		expect(guardMetaCounts(FakeMetaService, guard)).toBe(true);
		const service = new FakeMetaService();
		await service.totalCount('platform_connections');
		expect(service.seen).toEqual([{ filter: { owner: { _eq: 'u1' } } }]);
		await expect(service.filterCount('platform_connections', { filter: { encrypted_credentials: { _nnull: true } } })).rejects.toMatchObject({ status: 400 });
		expect(guardMetaCounts(undefined, guard)).toBe(false);
	});
});

describe('nested reads of owned collections', () => {
	it('get the owner filter at every depth they are read, wildcards and aliases included', () => {
		const own = { owner: { _eq: 'u1' } };
		const scoped = guardQuery(fields, { fields: ['id', 'sessions.*', 'sessions.creator_profile_id.id'] }, 'platform_connections', { schema: fullSchema, accountability: user });
		expect(scoped.filter).toEqual(own);
		expect(scoped.deep).toEqual({ sessions: { _filter: own, creator_profile_id: { _filter: own } } });

		const wild = guardQuery(fields, { fields: ['*.*.*'] }, 'directus_users', { schema: fullSchema, accountability: user });
		expect(wild.filter).toBeUndefined();
		expect(wild.deep).toMatchObject({ connections: { _filter: own, sessions: { _filter: own } } });

		const aliased = guardQuery(fields, { fields: ['mine.id'], alias: { mine: 'sessions' }, deep: { mine: { _filter: { platform: { _eq: 'x' } } } } }, 'platform_connections', { schema: fullSchema, accountability: user });
		expect(aliased.deep).toEqual({ mine: { _filter: { _and: [{ platform: { _eq: 'x' } }, own] } } });
	});

	it('through a many-to-any field, read with or without its collection, or by wildcard', () => {
		const own = { owner: { _eq: 'u1' } };
		const withPins = {
			collections: { ...fullSchema.collections, pins: { fields: {} } },
			relations: [...fullSchema.relations, { collection: 'pins', field: 'item', related_collection: null, meta: { one_allowed_collections: ['platform_connections', 'articles'] } }],
		} as unknown as SchemaOverview;
		const read = (fieldList: string[]) => guardQuery(fields, { fields: fieldList }, 'pins', { schema: withPins, accountability: user }).deep;
		expect(read(['item.*'])).toEqual({ 'item:platform_connections': { _filter: own } });
		expect(read(['item:platform_connections.id'])).toEqual({ 'item:platform_connections': { _filter: own } });
		expect(read(['*.*'])).toEqual({ 'item:platform_connections': { _filter: own } });
	});

	it('admins and internal calls read as they ask', () => {
		const query = { fields: ['sessions.*'] };
		expect(guardQuery(fields, query, 'platform_connections', { schema: fullSchema, accountability: admin })).toBe(query);
		expect(guardQuery(fields, query, 'platform_connections', { schema: fullSchema, accountability: null })).toBe(query);
	});
});

describe('nested filters through owned collections', () => {
	const own = { owner: { _eq: 'u1' } };
	it('across a many-to-one relation: the owner condition stands beside the user’s, on the same path', () => {
		const m2o = guardQuery(fields, { filter: { _or: [{ creator_profile_id: { platform: { _eq: 'x' } } }, { platform: { _eq: 'y' } }] } }, 'platform_sessions', { schema: fullSchema, accountability: user });
		expect(m2o.filter).toEqual({
			_and: [{ _or: [{ _and: [{ creator_profile_id: { platform: { _eq: 'x' } } }, { creator_profile_id: own }] }, { platform: { _eq: 'y' } }] }, own],
		});
		// An operator on the relation itself (null checks) is left as it is.
		const isNull = guardQuery(fields, { filter: { creator_profile_id: { _null: true } } }, 'platform_sessions', { schema: fullSchema, accountability: user });
		expect(isNull.filter).toEqual({ _and: [{ creator_profile_id: { _null: true } }, own] });
	});

	it('across a one-to-many relation into owned rows: refused for users, as asked for admins', () => {
		const filters = [{ sessions: { _some: { platform: { _eq: 'x' } } } }, { sessions: { platform: { _eq: 'x' } } }, { _or: [{ sessions: { _none: { id: { _nnull: true } } } }] }] as never[];
		for (const filter of filters) {
			expect(() => guardQuery(fields, { filter }, 'platform_connections', { schema: fullSchema, accountability: user })).toThrow(expect.objectContaining({ status: 400 }));
			expect(guardQuery(fields, { filter }, 'platform_connections', { schema: fullSchema, accountability: admin }).filter).toBe(filter);
		}
	});
});

describe('aliases', () => {
	it('name the field they alias wherever the query uses them, at the top and in deep levels', () => {
		refused('platform_connections', { alias: { x: 'encrypted_credentials' }, sort: ['-x'] });
		refused('platform_connections', { alias: { x: 'encrypted_credentials' }, filter: { _and: [{ x: { _nnull: true } }] } });
		refused('platform_connections', { alias: { x: 'encrypted_credentials' }, aggregate: { max: ['x'] } });
		refused('platform_sessions', { alias: { c: 'creator_profile_id' }, sort: ['c.encrypted_credentials'] });
		refused('platform_connections', { deep: { sessions: { _alias: { k: 'encrypted_cookies' }, _sort: ['k'] } } });
		allowed('platform_connections', { alias: { x: 'platform' }, sort: ['x'], fields: ['x'] });
	});
});
