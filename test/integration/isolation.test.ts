import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../tools/harness/directus.js';
import { addSessionsAlias, useDirectus, WEBSOCKETS, type Api, type TestUser as User } from './fixture.js';
import * as websocket from '../../tools/harness/websocket.js';

/**
 * Isolation on the channels that never pass `items.query`, and queries that could only ever be
 * oracles: a user learns nothing about other owners' rows — not their rows, not their ids, not
 * how many there are — and nobody, admins included, filters, sorts, groups or aggregates on a
 * protected field.
 */
const suite = useDirectus({ env: { ...WEBSOCKETS, WEBSOCKETS_GRAPHQL_ENABLED: 'false' }, users: ['a', 'b'] });
let directus: Instance;
let api: Api;
let A: User;
let B: User;
/** A's platform username: what B must not be able to find out. */
const aliceHandle = `alice-${randomBytes(4).toString('hex')}`;
let aliceConnection: string;
let bobConnection: string;

const CONNECTIONS = 'platform_connections';
const get = (path: string, token: string) => api('GET', path, { token });
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

beforeAll(async () => {
	({ directus, api, users: [A, B] } = suite);
	const created = await api('POST', '/credentials/create-profile', { token: A.token, body: { platform: 'instagram', platform_username: aliceHandle, credentials: { password: 'alice-pass' } } });
	expect(created.status).toBe(200);
	aliceConnection = created.body.id;
	await api('POST', '/credentials/create-profile', { token: A.token, body: { platform: 'tiktok', platform_username: `${aliceHandle}-2`, credentials: { password: 'p' } } });
	const bob = await api('POST', '/credentials/create-profile', { token: B.token, body: { platform: 'instagram', platform_username: 'bob', credentials: { password: 'bob-pass' } } });
	expect(bob.status).toBe(200);
	bobConnection = bob.body.id;
	await addSessionsAlias(suite);
}, 600_000);

const openSocket = (token: string) => websocket.openSocket(directus, token);
const overWebsocket = (token: string, message: Record<string, unknown>) => websocket.overWebsocket(directus, token, message);

describe('counts see the caller’s rows only', () => {
	it('meta=filter_count cannot find another owner’s row (REST)', async () => {
		const filters: Record<string, string>[] = [
			{ 'filter[platform_username][_eq]': aliceHandle },
			{ 'filter[platform_username][_starts_with]': 'alice-' },
			{ 'filter[id][_eq]': aliceConnection },
		];
		for (const filter of filters) {
			const res = await get(`/items/${CONNECTIONS}?${q({ limit: '0', meta: 'filter_count', ...filter })}`, B.token);
			expect(res.status, res.text).toBe(200);
			expect(res.body.meta.filter_count).toBe(0);
		}
		// The owner finds their own row: the filter itself works.
		const own = await get(`/items/${CONNECTIONS}?${q({ limit: '0', meta: 'filter_count', 'filter[platform_username][_eq]': aliceHandle })}`, A.token);
		expect(own.body.meta.filter_count).toBe(1);
	});

	it('meta=total_count counts the caller’s rows; an admin’s counts every row', async () => {
		expect((await get(`/items/${CONNECTIONS}?${q({ limit: '0', meta: 'total_count' })}`, B.token)).body.meta.total_count).toBe(1);
		expect((await get(`/items/${CONNECTIONS}?${q({ limit: '0', meta: '*' })}`, A.token)).body.meta).toEqual({ total_count: 2, filter_count: 2 });
		expect((await get(`/items/${CONNECTIONS}?${q({ limit: '0', meta: 'total_count' })}`, directus.adminToken)).body.meta.total_count).toBe(3);
	});

	it('aggregates and groupBy count the caller’s rows only', async () => {
		// PostgreSQL answers counts as strings, SQLite as numbers.
		const count = await get(`/items/${CONNECTIONS}?${q({ 'aggregate[count]': '*' })}`, B.token);
		expect(count.body.data.map((r: { count: unknown }) => Number(r.count))).toEqual([1]);
		const grouped = await get(`/items/${CONNECTIONS}?${q({ 'aggregate[count]': '*', 'groupBy[]': 'platform' })}`, B.token);
		expect(grouped.body.data.map((r: { platform: string; count: unknown }) => [r.platform, Number(r.count)])).toEqual([['instagram', 1]]);
		const gql = await api('POST', '/graphql', { token: B.token, body: { query: `{ ${CONNECTIONS}_aggregated { count { id } } }` } });
		expect(gql.body.data[`${CONNECTIONS}_aggregated`].map((r: { count: { id: unknown } }) => Number(r.count.id))).toEqual([1]);
	});

	it('websocket items reads: counts and rows are the caller’s only', async () => {
		const reply = await overWebsocket(B.token, {
			type: 'items',
			action: 'read',
			collection: CONNECTIONS,
			query: { fields: ['id', 'platform_username'], meta: ['total_count', 'filter_count'], filter: { platform_username: { _starts_with: 'alice-' } } },
		});
		expect(reply.type, JSON.stringify(reply)).toBe('items');
		expect(reply.data).toEqual([]);
		expect(reply.meta).toEqual({ total_count: 1, filter_count: 0 });
	});
});

describe('a protected field cannot be queried on', () => {
	const refused = async (path: string, token: string) => {
		const res = await get(path, token);
		expect(res.status, `${path}: ${res.text}`).toBe(400);
		expect(res.body.errors[0].extensions.code).toBe('INVALID_QUERY');
		expect(res.body.errors[0].message).toContain('protected field');
		expect(res.text).not.toContain('cred:v2');
	};

	it('filter, sort, groupBy and aggregate answer 400 — for users and admins alike', async () => {
		for (const token of [B.token, directus.adminToken]) {
			await refused(`/items/${CONNECTIONS}?${q({ 'filter[encrypted_credentials][_starts_with]': 'cred:v2:' })}`, token);
			await refused(`/items/${CONNECTIONS}?${q({ 'filter[_or][0][encrypted_credentials][_nnull]': 'true' })}`, token);
			await refused(`/items/${CONNECTIONS}?${q({ limit: '0', meta: 'filter_count', 'filter[encrypted_credentials][_starts_with]': 'c' })}`, token);
			await refused(`/items/${CONNECTIONS}?${q({ sort: '-encrypted_credentials' })}`, token);
			await refused(`/items/${CONNECTIONS}?${q({ 'groupBy[]': 'encrypted_credentials', 'aggregate[count]': '*' })}`, token);
			await refused(`/items/${CONNECTIONS}?${q({ 'aggregate[max]': 'encrypted_credentials' })}`, token);
			await refused(`/items/api_credentials?${q({ 'aggregate[countDistinct]': 'encrypted_key' })}`, token);
		}
	});

	it('through relations: many-to-one paths, one-to-many aliases and deep filters', async () => {
		for (const token of [B.token, directus.adminToken]) {
			await refused(`/items/platform_sessions?${q({ 'filter[creator_profile_id][encrypted_credentials][_starts_with]': 'c' })}`, token);
			await refused(`/items/platform_sessions?${q({ sort: 'creator_profile_id.encrypted_credentials' })}`, token);
			await refused(`/items/${CONNECTIONS}?${q({ 'filter[sessions][_some][encrypted_cookies][_nnull]': 'true' })}`, token);
			await refused(`/items/${CONNECTIONS}?${q({ fields: 'id,sessions.id', 'deep[sessions][_filter][encrypted_cookies][_starts_with]': 'c' })}`, token);
			await refused(`/items/${CONNECTIONS}?${q({ fields: 'id,sessions.id', 'deep[sessions][_sort]': 'encrypted_cookies' })}`, token);
		}
	});

	it('under an alias too', async () => {
		const queries: Record<string, string>[] = [
			{ 'alias[x]': 'encrypted_credentials', sort: 'x' },
			{ 'alias[x]': 'encrypted_credentials', 'filter[x][_starts_with]': 'c' },
			{ 'alias[x]': 'encrypted_credentials', 'groupBy[]': 'x', 'aggregate[count]': '*' },
			{ 'alias[x]': 'encrypted_credentials', 'aggregate[max]': 'x' },
		];
		for (const params of queries) {
			const res = await get(`/items/${CONNECTIONS}?${q(params)}`, directus.adminToken);
			expect(res.status, `${JSON.stringify(params)}: ${res.text}`).toBe(400);
			expect(res.text).not.toContain('cred:v2');
		}
	});

	it('over GraphQL and websockets too', async () => {
		const gql = await api('POST', '/graphql', { token: B.token, body: { query: `{ ${CONNECTIONS}(filter: { encrypted_credentials: { _starts_with: "c" } }) { id } }` } });
		expect(gql.body.data?.[CONNECTIONS] ?? null).toBeNull();
		expect(gql.body.errors[0].extensions.code).toBe('INVALID_QUERY');
		const reply = await overWebsocket(B.token, { type: 'items', action: 'read', collection: CONNECTIONS, query: { filter: { encrypted_credentials: { _nnull: true } } } });
		expect(reply.status).toBe('error');
		expect(reply.error.code).toBe('INVALID_QUERY');
	});

	it('search skips protected fields; while one is still searchable, search is refused until setup marks it', async () => {
		const found = await get(`/items/${CONNECTIONS}?${q({ search: 'bob', meta: 'filter_count' })}`, B.token);
		expect(found.status, found.text).toBe(200);
		expect(found.body.meta.filter_count).toBe(1);
		expect((await get(`/items/${CONNECTIONS}?${q({ search: 'alice', meta: 'filter_count' })}`, B.token)).body.meta.filter_count).toBe(0);
		// An installation from before: the protected field searchable, as Directus makes every field.
		const reopened = await api('PATCH', `/fields/${CONNECTIONS}/encrypted_credentials`, { token: directus.adminToken, body: { meta: { searchable: true } } });
		expect(reopened.status, reopened.text).toBe(200);
		await refused(`/items/${CONNECTIONS}?${q({ search: 'cred' })}`, directus.adminToken);
		const setup = await directus.cli(['credentials', 'setup', '--json']);
		expect(JSON.parse(setup.stdout.trim().split('\n').pop()!).changes).toContain(`made ${CONNECTIONS}.encrypted_credentials unsearchable`);
		// The server reads the schema change once its schema cache is cleared (or at its next start).
		expect((await api('POST', '/utils/cache/clear?system=true', { token: directus.adminToken })).status).toBeLessThan(300);
		expect((await get(`/items/${CONNECTIONS}?${q({ search: 'cred' })}`, directus.adminToken)).status).toBe(200);
	});

	it('queries on other fields, and the routes, still work', async () => {
		const res = await get(`/items/${CONNECTIONS}?${q({ 'filter[platform][_eq]': 'instagram', sort: '-date_created', fields: 'id,sessions.id' })}`, B.token);
		expect(res.status, res.text).toBe(200);
		expect(res.body.data).toHaveLength(1);
		const status = await get(`/credentials/field-status?${q({ collection: CONNECTIONS, field: 'encrypted_credentials', id: aliceConnection })}`, A.token);
		expect(status.status).toBe(200);
	});
});

describe('relations reach only the caller’s rows, at every depth', () => {
	let bobSession: string;
	let adminSession: string;
	const cookies = [{ name: 'sessionid', value: 'v', domain: '.instagram.com' }];

	beforeAll(async () => {
		bobSession = (await api('POST', '/credentials/store-platform-session', { token: B.token, body: { creator_profile_id: bobConnection, platform: 'instagram', cookies } })).body.id;
		// An admin may attach a row of their own to anyone's connection: it stays the admin's.
		adminSession = (await api('POST', '/credentials/store-platform-session', { token: directus.adminToken, body: { creator_profile_id: bobConnection, platform: 'admin-only', cookies } })).body.id;
		expect(bobSession && adminSession).toBeTruthy();
	});

	it('nested reads through an o2m alias, by name or wildcard, and over GraphQL', async () => {
		const named = await get(`/items/${CONNECTIONS}/${bobConnection}?${q({ fields: 'id,sessions.id' })}`, B.token);
		expect(named.status, named.text).toBe(200);
		expect(named.body.data.sessions).toEqual([{ id: bobSession }]);
		const wild = await get(`/items/${CONNECTIONS}/${bobConnection}?${q({ fields: '*.*' })}`, B.token);
		expect(wild.body.data.sessions.map((s: { id: string }) => s.id)).toEqual([bobSession]);
		const gql = await api('POST', '/graphql', { token: B.token, body: { query: `{ ${CONNECTIONS} { id sessions { id } } }` } });
		expect(gql.body.data[CONNECTIONS]).toEqual([{ id: bobConnection, sessions: [{ id: bobSession }] }]);
		// The admin sees both: nothing was deleted, the user's view was limited.
		const all = await get(`/items/${CONNECTIONS}/${bobConnection}?${q({ fields: 'sessions.id' })}`, directus.adminToken);
		expect(all.body.data.sessions).toHaveLength(2);
	});

	it('nested filters and deep filters cannot find another owner’s row', async () => {
		// Through a one-to-many relation Directus filters in a subquery no owner condition can join: refused for users.
		const filters: Record<string, string>[] = [{ 'filter[sessions][_some][platform][_eq]': 'admin-only' }, { 'filter[sessions][platform][_eq]': 'admin-only' }];
		for (const filter of filters) {
			const res = await get(`/items/${CONNECTIONS}?${q({ limit: '0', meta: 'filter_count', ...filter })}`, B.token);
			expect(res.status, res.text).toBe(400);
			expect(res.text).not.toContain(bobConnection);
		}
		// An admin's own query is not changed.
		const admin = await get(`/items/${CONNECTIONS}?${q({ fields: 'id', 'filter[sessions][_some][platform][_eq]': 'admin-only' })}`, directus.adminToken);
		expect(admin.body.data).toEqual([{ id: bobConnection }]);
		const deep = await get(`/items/${CONNECTIONS}/${bobConnection}?${q({ fields: 'sessions.id,sessions.platform', 'deep[sessions][_filter][platform][_eq]': 'admin-only' })}`, B.token);
		expect(deep.body.data.sessions).toEqual([]);
		const m2o = await get(`/items/platform_sessions?${q({ fields: 'id', 'filter[creator_profile_id][platform_username][_eq]': aliceHandle })}`, B.token);
		expect(m2o.status, m2o.text).toBe(200);
		expect(m2o.body.data).toEqual([]);
		const mine = await get(`/items/platform_sessions?${q({ fields: 'id', 'filter[creator_profile_id][platform_username][_eq]': 'bob' })}`, B.token);
		expect(mine.body.data).toEqual([{ id: bobSession }]);
	});
});

describe('many-to-any relations reach only the caller’s rows', () => {
	beforeAll(async () => {
		// An admin's "pins" collection whose `item` may point at a connection (a2o, the half of many-to-any).
		const admin = directus.adminToken;
		const created = await api('POST', '/collections', {
			token: admin,
			body: {
				collection: 'pins',
				schema: {},
				meta: {},
				fields: [
					{ field: 'id', type: 'integer', schema: { is_primary_key: true, has_auto_increment: true }, meta: { hidden: true } },
					{ field: 'collection', type: 'string', schema: {}, meta: {} },
					{ field: 'item', type: 'string', schema: {}, meta: { special: ['m2a'] } },
				],
			},
		});
		expect(created.status, created.text).toBe(200);
		const relation = await api('POST', '/relations', {
			token: admin,
			body: { collection: 'pins', field: 'item', related_collection: null, meta: { one_allowed_collections: [CONNECTIONS], one_collection_field: 'collection' }, schema: null },
		});
		expect(relation.status, relation.text).toBe(200);
		const policy = (await api('GET', `/policies?filter[name][_eq]=${encodeURIComponent('Credentials Owner')}`, { token: admin })).body.data[0].id;
		expect((await api('POST', '/permissions', { token: admin, body: { policy, collection: 'pins', action: 'read', fields: ['*'], permissions: null } })).status).toBe(200);
		expect((await api('POST', '/items/pins', { token: admin, body: [{ collection: CONNECTIONS, item: aliceConnection }, { collection: CONNECTIONS, item: bobConnection }] })).status).toBe(200);
	});

	it('nested reads through an a2o field, scoped or not, show the caller’s rows only', async () => {
		for (const fields of ['id,item:platform_connections.platform_username', 'id,item.platform_username', '*.*']) {
			const res = await get(`/items/pins?${q({ fields })}`, B.token);
			expect(res.status, `${fields}: ${res.text}`).toBe(200);
			expect(res.text, fields).not.toContain(aliceHandle);
			expect(res.text, fields).toContain('bob');
		}
		const gql = await api('POST', '/graphql', { token: B.token, body: { query: `{ pins { id item { ... on ${CONNECTIONS} { platform_username } } } }` } });
		expect(gql.text).not.toContain(aliceHandle);
		// The admin sees both.
		expect((await get(`/items/pins?${q({ fields: 'item:platform_connections.platform_username' })}`, directus.adminToken)).text).toContain(aliceHandle);
	});

	it('a filter through it cannot find another owner’s row', async () => {
		const res = await get(`/items/pins?${q({ 'filter[item:platform_connections][platform_username][_eq]': aliceHandle, meta: 'filter_count', fields: 'id' })}`, B.token);
		expect(res.status === 400 || res.body.meta?.filter_count === 0, res.text).toBe(true);
	});
});

describe('existence', () => {
	it('field-status answers 404 alike for another owner’s row and a missing one', async () => {
		const foreign = await get(`/credentials/field-status?${q({ collection: CONNECTIONS, field: 'encrypted_credentials', id: aliceConnection })}`, B.token);
		const missing = await get(`/credentials/field-status?${q({ collection: CONNECTIONS, field: 'encrypted_credentials', id: '00000000-0000-4000-8000-000000000000' })}`, B.token);
		expect(foreign.status).toBe(404);
		expect(missing.status).toBe(404);
		expect(foreign.body).toEqual(missing.body);
	});
});

describe('flows act within the owner guard', () => {
	/** The core licence allows few active flows: each test's flow is switched off before the next one starts. */
	const activeFlows: string[] = [];
	/** A flow with one operation; returns the flow id and the operation as stored. */
	async function flowWith(trigger: 'webhook' | 'manual', operation: Record<string, unknown>, triggerOptions: Record<string, unknown> = {}) {
		for (const id of activeFlows.splice(0)) await api('PATCH', `/flows/${id}`, { token: directus.adminToken, body: { status: 'inactive' } });
		const flow = await api('POST', '/flows', {
			token: directus.adminToken,
			body: { name: `isolation ${operation['type']}`, status: 'active', trigger, accountability: null, options: { method: 'POST', async: false, ...triggerOptions } },
		});
		expect(flow.status, flow.text).toBe(200);
		const op = await api('POST', '/operations', {
			token: directus.adminToken,
			body: { flow: flow.body.data.id, key: 'op', name: 'op', position_x: 19, position_y: 1, ...operation },
		});
		expect(op.status, op.text).toBe(200);
		expect((await api('PATCH', `/flows/${flow.body.data.id}`, { token: directus.adminToken, body: { operation: op.body.data.id } })).status).toBe(200);
		activeFlows.push(flow.body.data.id);
		return { flow: flow.body.data.id as string, operation: op.body.data as { id: string; options: Record<string, unknown> } };
	}
	const trigger = (flow: string, token: string, body: unknown = {}) => api('POST', `/flows/trigger/${flow}`, { token, body });
	const usernameOf = async (id: string) => (await directus.db.query<{ platform_username: string }>(`select platform_username from ${CONNECTIONS} where id = ?`, id))[0]?.platform_username;
	let aliceSpare: string;

	beforeAll(async () => {
		const spare = await api('POST', '/credentials/create-profile', { token: A.token, body: { platform: 'spare', platform_username: `${aliceHandle}-spare`, credentials: { password: 'spare-pass' } } });
		expect(spare.status).toBe(200);
		aliceSpare = spare.body.id;
	});

	it('"Read Data" with events off still reads only the trigger’s rows, masked', async () => {
		const { flow, operation } = await flowWith('webhook', {
			type: 'item-read',
			options: { collection: CONNECTIONS, permissions: '$trigger', emitEvents: false, query: { fields: ['id', 'platform_username', 'encrypted_credentials'] } },
		});
		expect(operation.options['emitEvents']).toBe(true);
		const run = await trigger(flow, B.token);
		expect(run.status, run.text).toBe(200);
		expect(run.body.map((r: { id: string }) => r.id)).toEqual([bobConnection]);
		expect(run.text).not.toContain(aliceHandle);
		expect(run.text).not.toContain('cred:v2');
	});

	it('a templated collection, and an update that sends options without a type, keep events on', async () => {
		const { flow, operation } = await flowWith('webhook', {
			type: 'item-read',
			options: { collection: '{{$trigger.body.c}}', permissions: '$trigger', emitEvents: false, query: { fields: ['id', 'platform_username'] } },
		});
		expect(operation.options['emitEvents']).toBe(true);
		const run = await trigger(flow, B.token, { c: CONNECTIONS });
		expect(run.body.map((r: { id: string }) => r.id)).toEqual([bobConnection]);
		const patched = await api('PATCH', `/operations/${operation.id}`, { token: directus.adminToken, body: { options: { ...operation.options, emitEvents: false } } });
		expect(patched.status, patched.text).toBe(200);
		expect(patched.body.data.options.emitEvents).toBe(true);
		expect((await trigger(flow, B.token, { c: CONNECTIONS })).text).not.toContain(aliceHandle);
	});

	it('"Update Data" and "Delete Data" cannot reach another owner’s row', async () => {
		const update = await flowWith('webhook', {
			type: 'item-update',
			options: { collection: CONNECTIONS, permissions: '$trigger', emitEvents: false, key: ['{{$trigger.body.id}}'], payload: { platform_username: 'taken-over' } },
		});
		expect(update.operation.options['emitEvents']).toBe(true);
		await trigger(update.flow, B.token, { id: aliceSpare });
		expect(await usernameOf(aliceSpare)).toBe(`${aliceHandle}-spare`);
		// The owner's own trigger works: the flow is not simply broken.
		const own = await trigger(update.flow, A.token, { id: aliceSpare });
		expect(await usernameOf(aliceSpare), own.text).toBe('taken-over');
		const remove = await flowWith('webhook', {
			type: 'item-delete',
			options: { collection: CONNECTIONS, permissions: '$trigger', emitEvents: false, key: ['{{$trigger.body.id}}'] },
		});
		expect(remove.operation.options['emitEvents']).toBe(true);
		await trigger(remove.flow, B.token, { id: aliceSpare });
		expect(await usernameOf(aliceSpare)).toBe('taken-over');
		await trigger(remove.flow, A.token, { id: aliceSpare });
		expect(await usernameOf(aliceSpare)).toBeUndefined();
	});

	it('a manual flow refuses keys of another owner’s rows', async () => {
		const { flow } = await flowWith('manual', { type: 'log', options: { message: 'manual run' } }, { collections: [CONNECTIONS], requireSelection: true });
		const foreign = await trigger(flow, B.token, { collection: CONNECTIONS, keys: [aliceConnection] });
		expect(foreign.status, foreign.text).toBe(403);
		const own = await trigger(flow, B.token, { collection: CONNECTIONS, keys: [bobConnection] });
		expect(own.status, own.text).toBeLessThan(300);
	});

	it('operations stored with events off before the extension are fixed when the server starts', async () => {
		const { flow, operation } = await flowWith('webhook', {
			type: 'item-read',
			options: { collection: CONNECTIONS, permissions: '$trigger', query: { fields: ['id', 'platform_username'] } },
		});
		// As an older install (or a direct database write) left it.
		await directus.db.execute(`update directus_operations set options = ? where id = ?`, JSON.stringify({ ...operation.options, emitEvents: false }), operation.id);
		await directus.restart();
		const stored = await api('GET', `/operations/${operation.id}`, { token: directus.adminToken });
		expect(stored.body.data.options.emitEvents).toBe(true);
		const run = await trigger(flow, B.token);
		expect(run.body.map((r: { id: string }) => r.id)).toEqual([bobConnection]);
	});
});

describe('collaborative editing', () => {
	const settle = () => new Promise((r) => setTimeout(r, 500));
	const join = (item: string, extra: Record<string, unknown> = {}) => ({ type: 'collab', action: 'join', collection: CONNECTIONS, item, version: null, ...extra });
	const isInit = (m: Record<string, any>) => m.type === 'collab' && m.action === 'init';
	// Refused before Directus sees it: the websocket's own error reply ({ type: 'server', status: 'error' }).
	const isError = (m: Record<string, any>) => (m.type === 'collab' && m.action === 'error') || m.status === 'error';

	beforeAll(async () => {
		const enabled = await api('PATCH', '/settings', { token: directus.adminToken, body: { collaborative_editing_enabled: true } });
		expect(enabled.status, enabled.text).toBe(200);
	});

	it('a user cannot join a room on another owner’s item', async () => {
		const bob = await openSocket(B.token);
		try {
			bob.send(join(aliceConnection));
			const reply = await bob.next((m) => isInit(m) || isError(m));
			expect(isError(reply), JSON.stringify(reply)).toBe(true);
			expect(reply.error.code).toBe('FORBIDDEN');
			expect(JSON.stringify(reply)).not.toContain(aliceHandle);
			// Their own item: the room opens.
			bob.send(join(bobConnection));
			expect((await bob.next((m) => isInit(m) || isError(m))).action).toBe('init');
		} finally {
			bob.close();
		}
	});

	it('a protected field’s unsaved value is never sent to the room', async () => {
		const secret = `unsaved-${randomBytes(6).toString('hex')}`;
		// A fresh item, so the room is opened by this test.
		const item = (await api('POST', '/credentials/create-profile', { token: A.token, body: { platform: 'collab', platform_username: 'collab', credentials: { password: 'stored' } } })).body.id;
		const alice = await openSocket(A.token);
		const admin = await openSocket(directus.adminToken);
		try {
			alice.send(join(item, { initialChanges: { encrypted_credentials: { password: `${secret}-initial` }, platform_username: 'typed-initial' } }));
			const room = (await alice.next(isInit)).room as string;
			expect(room).toBeTruthy();
			admin.send(join(item));
			const init = await admin.next(isInit);
			expect(init.changes).toEqual({ platform_username: 'typed-initial' });
			alice.send({ type: 'collab', action: 'update', room, field: 'encrypted_credentials', changes: { password: secret } });
			alice.send({ type: 'collab', action: 'updateAll', room, changes: { encrypted_credentials: { password: `${secret}-all` }, platform_username: 'typed-all' } });
			alice.send({ type: 'collab', action: 'update', room, field: 'platform_username', changes: 'typed' });
			// The ordinary field arrives: the room works, and the protected one was sent before it.
			await admin.next((m) => m.action === 'update' && m.field === 'platform_username' && m.changes === 'typed');
			await settle();
			expect(JSON.stringify(admin.received)).not.toContain(secret);
			expect(JSON.stringify(init)).not.toContain(secret);
		} finally {
			alice.close();
			admin.close();
		}
	});
});
