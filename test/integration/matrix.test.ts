import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../tools/harness/directus.js';
import { addSessionsAlias, useDirectus, WEBSOCKETS, type Api } from './fixture.js';
import { graphqlSubscription, openSocket, type SocketMessage } from '../../tools/harness/websocket.js';

/**
 * The isolation promise as a channel × role matrix: for every way Directus offers to reach rows
 * (REST, GraphQL, export, import, websockets, collaborative editing, MCP, flows, the extension's
 * own routes) and every kind of caller, what the caller gets — and that nothing of another
 * owner's rows (rows, ids, counts, values) reaches them. Four owners (users A and B, a Studio
 * user, an admin) each hold one row of everything, tagged with markers; a cell's outcome is read
 * off which owners' markers (or counts) come back. The README's table is generated from these
 * outcomes (`MATRIX_WRITE=1` rewrites it; otherwise the test fails when it differs).
 */
type Role = 'public' | 'A' | 'B' | 'studio' | 'admin' | 'server';
const ROLES: Role[] = ['public', 'A', 'B', 'studio', 'admin', 'server'];
const HEADINGS: Record<Role, string> = { public: 'public', A: 'user A', B: 'user B', studio: 'Studio user', admin: 'admin', server: 'server secret' };
type Owner = 'A' | 'B' | 'studio' | 'admin';
const OWNERS: Owner[] = ['A', 'B', 'studio', 'admin'];

/**
 * Outcomes: `own` — the caller's rows only; `all` — every owner's; `foreign` — another owner's row
 * (an admin reading one); `none` — an answer with no owner's rows; `wrote` — a write that reached
 * another owner's row; a status code — refused.
 */
type Outcome = 'own' | 'all' | 'foreign' | 'none' | 'wrote' | `${number}`;
interface Observation {
	status: number;
	text: string;
	/** A count the answer gives instead of rows. */
	count?: number;
	/** For writes: whether the other owner's row changed. */
	wrote?: boolean;
}
interface Caller {
	role: Role;
	owner?: Owner;
	token?: string;
	headers: Record<string, string>;
	/** The owner whose rows this caller probes. */
	victim: Owner;
}
interface Channel {
	group: string;
	name: string;
	probe: (c: Caller) => Promise<Observation>;
	/** The documented outcome per role; `users` stands for A, B and the Studio user (unless `studio` differs). */
	expect: { users: Outcome; studio?: Outcome; admin: Outcome; public: Outcome; server?: Outcome };
	/** Plaintext is expected here: the owner's own reveal routes. */
	plaintext?: boolean;
}

// Trace-level logs: the server log and `/websocket/logs` must hold no secret even then.
const suite = useDirectus({ env: { ...WEBSOCKETS, MCP_ENABLED: 'true', LOG_LEVEL: 'trace' }, users: ['matrix-a', 'matrix-b', 'matrix-studio'] });
let directus: Instance;
let api: Api;
const tag = randomBytes(3).toString('hex');
const C = 'platform_connections';
/** Per owner: the ids and marker values of its rows. */
const rows = {} as Record<Owner, { token: string; connection: string; session: string; download: string; vault: string; username: string; plaintexts: string[] }>;
const markersOf = (owner: Owner) => {
	const r = rows[owner];
	return [r.connection, r.session, r.download, r.vault, r.username, ...r.plaintexts];
};
const results = new Map<string, Map<Role, Outcome>>();

beforeAll(async () => {
	({ directus, api } = suite);
	const [A, B, S] = suite.users;
	const studioPolicy = (await api('GET', `/policies?filter[name][_eq]=${encodeURIComponent('Credentials Studio')}`, { token: directus.adminToken })).body.data[0].id;
	expect((await api('POST', '/access', { token: directus.adminToken, body: { user: S.id, policy: studioPolicy } })).status).toBe(200);
	const settings = await api('PATCH', '/settings', { token: directus.adminToken, body: { collaborative_editing_enabled: true, mcp_enabled: true, mcp_allow_deletes: true } });
	expect(settings.status, settings.text).toBe(200);
	expect((await api('PATCH', `/collections/${C}`, { token: directus.adminToken, body: { meta: { versioning: true } } })).status).toBe(200);
	await addSessionsAlias(suite);

	const tokens: Record<Owner, string> = { A: A.token, B: B.token, studio: S.token, admin: directus.adminToken };
	for (const owner of OWNERS) {
		const token = tokens[owner];
		const mark = `${owner}${tag}`.toLowerCase();
		const username = `mx-${mark}`;
		const post = async (path: string, body: unknown) => {
			const res = await api('POST', path, { token, body });
			expect(res.status, `${path}: ${res.text}`).toBeLessThan(300);
			return res.body;
		};
		const connection = (await post('/credentials/create-profile', { platform: 'matrix', platform_username: username, credentials: { password: `pw-${mark}` } })).id;
		const session = (await post('/credentials/store-platform-session', { creator_profile_id: connection, platform: 'matrix', cookies: [{ name: 'sid', value: `ck-${mark}`, domain: '.example.com' }] })).id;
		const download = (await post('/credentials/create-download-cred', { platform: 'matrix', creator_profile_id: connection, auth_type: 'password', credentials: { password: `dl-${mark}` } })).id;
		const vault = (await post('/credentials', { service: 'openai', name: `vn-${mark}`, key: `vk-${mark}` })).id;
		rows[owner] = { token, connection, session, download, vault, username, plaintexts: [`pw-${mark}`, `ck-${mark}`, `dl-${mark}`, `vk-${mark}`] };
	}
}, 600_000);

const callers = (): Caller[] => [
	{ role: 'public', headers: {}, victim: 'A' },
	{ role: 'A', owner: 'A', token: rows.A.token, headers: {}, victim: 'B' },
	{ role: 'B', owner: 'B', token: rows.B.token, headers: {}, victim: 'A' },
	{ role: 'studio', owner: 'studio', token: rows.studio.token, headers: {}, victim: 'A' },
	{ role: 'admin', owner: 'admin', token: rows.admin.token, headers: {}, victim: 'A' },
	{ role: 'server', headers: { 'x-rbac-sync-secret': directus.env.RBAC_SYNC_WEBHOOK_SECRET! }, victim: 'A' },
];

const call = async (c: Caller, method: string, path: string, body?: unknown): Promise<Observation> => {
	const res = await api(method, path, { token: c.token, headers: c.headers, body });
	return { status: res.status, text: res.text };
};
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const MATRIX = { 'filter[platform][_eq]': 'matrix' };
const connectionVersion = async (id: string) =>
	(await directus.db.query<{ credentials_version: string | null }>(`select credentials_version from ${C} where id = ?`, id))[0]?.credentials_version ?? null;

/** Writes tag the victim's connection with a version string; `wrote` says whether it arrived. */
async function write(c: Caller, attempt: (value: string) => Promise<Observation>): Promise<Observation> {
	const value = `w-${randomBytes(4).toString('hex')}`;
	const observed = await attempt(value);
	await new Promise((r) => setTimeout(r, 150));
	return { ...observed, wrote: (await connectionVersion(rows[c.victim].connection)) === value };
}
/** A fresh row of the victim's, for probes that delete. */
async function throwaway(c: Caller): Promise<string> {
	const res = await api('POST', '/credentials/create-profile', { token: rows[c.victim].token, body: { platform: 'matrix-throwaway', platform_username: `t-${randomBytes(4).toString('hex')}`, credentials: { p: 1 } } });
	return res.body.id;
}
const exists = async (id: string) => (await directus.db.query(`select id from ${C} where id = ?`, id)).length === 1;

/** A websocket exchange as the caller: public and server callers do not authenticate. */
async function socket(c: Caller, message: Record<string, unknown>, settleMs = 0, during?: () => Promise<void>): Promise<Observation> {
	const ws = await openSocket(directus, c.token);
	try {
		ws.send({ ...message, uid: 'probe' });
		const reply = await ws.next(() => true);
		if (during) await during();
		if (settleMs) await new Promise((r) => setTimeout(r, settleMs));
		// The first answer says whether the request was taken; whatever follows still counts for what it reveals.
		const refused = reply.status === 'error' || reply.action === 'error';
		return { status: refused ? statusOfCode(reply.error?.code ?? reply.code) : 200, text: JSON.stringify([reply, ...ws.received]) };
	} finally {
		ws.close();
	}
}
const statusOfCode = (code: string) => ({ FORBIDDEN: 403, TOKEN_EXPIRED: 401, AUTH_FAILED: 401, INVALID_CREDENTIALS: 401 })[code] ?? 400;

let mcpId = 0;
async function mcp(c: Caller, tool: string, args: Record<string, unknown>): Promise<Observation> {
	const res = await api('POST', '/mcp', {
		token: c.token,
		headers: { ...c.headers, accept: 'application/json, text/event-stream' },
		body: { jsonrpc: '2.0', id: ++mcpId, method: 'tools/call', params: { name: tool, arguments: args } },
	});
	const isError = res.body?.result?.isError === true || res.body?.error;
	return { status: res.status >= 400 ? res.status : isError ? 403 : res.status, text: res.text };
}

const flows: Record<string, string> = {};
/** One active webhook flow per operation (created once; the core licence allows few active flows). */
async function flow(name: string, trigger: 'webhook' | 'manual' | 'event', operation: Record<string, unknown>, options: Record<string, unknown> = {}): Promise<string> {
	if (flows[name]) return flows[name]!;
	await retireFlows();
	const created = await api('POST', '/flows', { token: directus.adminToken, body: { name, status: 'active', trigger, accountability: null, options: { method: 'POST', async: false, ...options } } });
	expect(created.status, created.text).toBe(200);
	const op = await api('POST', '/operations', { token: directus.adminToken, body: { flow: created.body.data.id, key: 'op', name: 'op', position_x: 19, position_y: 1, ...operation } });
	expect(op.status, op.text).toBe(200);
	await api('PATCH', `/flows/${created.body.data.id}`, { token: directus.adminToken, body: { operation: op.body.data.id } });
	return (flows[name] = created.body.data.id);
}
async function retireFlows() {
	for (const id of Object.values(flows)) await api('PATCH', `/flows/${id}`, { token: directus.adminToken, body: { status: 'inactive' } });
	for (const key of Object.keys(flows)) delete flows[key];
}

const CHANNELS: Channel[] = [
	// REST items
	{ group: 'REST', name: 'list', expect: { users: 'own', admin: 'all', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ ...MATRIX, fields: 'id,platform_username' })}`) },
	{ group: 'REST', name: 'one row of another owner', expect: { users: '403', admin: 'foreign', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}/${rows[c.victim].connection}`) },
	{ group: 'REST', name: '`meta=filter_count`', expect: { users: 'own', admin: 'all', public: '403' }, probe: count((c) => call(c, 'GET', `/items/${C}?${q({ ...MATRIX, limit: '0', meta: 'filter_count' })}`), (b) => b.meta.filter_count) },
	{ group: 'REST', name: '`meta=total_count`', expect: { users: 'own', admin: 'all', public: '403' }, probe: count((c) => call(c, 'GET', `/items/download_credentials?${q({ limit: '0', meta: 'total_count' })}`), (b) => b.meta.total_count) },
	{ group: 'REST', name: '`aggregate[count]`', expect: { users: 'own', admin: 'all', public: '403' }, probe: count((c) => call(c, 'GET', `/items/${C}?${q({ ...MATRIX, 'aggregate[count]': '*' })}`), (b) => b.data[0].count) },
	{ group: 'REST', name: '`groupBy`', expect: { users: 'own', admin: 'all', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ ...MATRIX, 'aggregate[count]': '*', 'groupBy[]': 'platform_username' })}`) },
	{ group: 'REST', name: '`search`', expect: { users: 'own', admin: 'all', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ search: 'mx-', fields: 'id,platform_username' })}`) },
	{ group: 'REST', name: 'filter on another owner’s value', expect: { users: 'none', admin: 'foreign', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ 'filter[platform_username][_eq]': rows[c.victim].username, fields: 'id' })}`) },
	{ group: 'REST', name: '`alias`', expect: { users: 'own', admin: 'all', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ ...MATRIX, 'alias[u]': 'platform_username', fields: 'id,u' })}`) },
	{ group: 'REST', name: 'nested o2m fields', expect: { users: 'own', admin: 'all', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ ...MATRIX, fields: 'id,sessions.id,sessions.creator_profile_id.platform_username' })}`) },
	{ group: 'REST', name: 'nested m2o fields', expect: { users: 'own', admin: 'all', public: '403' }, probe: (c) => call(c, 'GET', `/items/download_credentials?${q({ fields: 'id,creator_profile_id.id,creator_profile_id.platform_username' })}`) },
	{ group: 'REST', name: '`deep` filter', expect: { users: 'own', admin: 'all', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ ...MATRIX, fields: 'id,sessions.id', 'deep[sessions][_filter][platform][_eq]': 'matrix' })}`) },
	{ group: 'REST', name: 'm2o filter on another owner’s value', expect: { users: 'none', admin: 'foreign', public: '403' }, probe: (c) => call(c, 'GET', `/items/platform_sessions?${q({ 'filter[creator_profile_id][platform_username][_eq]': rows[c.victim].username, fields: 'id' })}`) },
	{ group: 'REST', name: 'o2m filter (`_some`)', expect: { users: '400', admin: 'all', public: '400' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ 'filter[sessions][_some][platform][_eq]': 'matrix', fields: 'id' })}`) },
	{
		group: 'REST',
		name: '`?version=` read of another owner’s item',
		expect: { users: '403', admin: 'foreign', public: '403' },
		probe: async (c) => call(c, 'GET', `/items/${C}/${rows[c.victim].connection}?${q({ version: await draftOf(c.victim) })}`),
	},
	{ group: 'REST', name: 'update another owner’s row', expect: { users: '403', admin: 'wrote', public: '403' }, probe: (c) => write(c, (v) => call(c, 'PATCH', `/items/${C}/${rows[c.victim].connection}`, { credentials_version: v })) },
	{ group: 'REST', name: 'delete another owner’s row', expect: { users: '403', admin: 'wrote', public: '403' }, probe: deletes((c, id) => call(c, 'DELETE', `/items/${C}/${id}`)) },
	{
		group: 'REST',
		name: 'comment on another owner’s item',
		expect: { users: '403', admin: 'wrote', public: '403' },
		probe: async (c) => {
			const count = async () => (await directus.db.query(`select id from directus_comments where collection = ? and item = ?`, C, rows[c.victim].connection)).length;
			const before = await count();
			const observed = await call(c, 'POST', '/comments', { collection: C, item: rows[c.victim].connection, comment: 'hello' });
			return { ...observed, wrote: (await count()) > before };
		},
	},
	// GraphQL
	{ group: 'GraphQL', name: 'items', expect: { users: 'own', admin: 'all', public: '400' }, probe: (c) => call(c, 'POST', '/graphql', { query: `{ ${C}(filter: { platform: { _eq: "matrix" } }) { id platform_username } }` }) },
	{ group: 'GraphQL', name: '`_aggregated`', expect: { users: 'own', admin: 'all', public: '400' }, probe: count((c) => call(c, 'POST', '/graphql', { query: `{ ${C}_aggregated(filter: { platform: { _eq: "matrix" } }) { count { id } } }` }), (b) => b.data[`${C}_aggregated`][0].count.id) },
	{ group: 'GraphQL', name: 'nested relations', expect: { users: 'own', admin: 'all', public: '400' }, probe: (c) => call(c, 'POST', '/graphql', { query: `{ ${C}(filter: { platform: { _eq: "matrix" } }) { id sessions { id } } }` }) },
	{ group: 'GraphQL', name: 'update another owner’s row', expect: { users: '403', admin: 'wrote', public: '400' }, probe: (c) => write(c, (v) => graphqlStatus(call(c, 'POST', '/graphql', { query: `mutation { update_${C}_item(id: "${rows[c.victim].connection}", data: { credentials_version: "${v}" }) { id } }` }))) },
	// Export and import
	{ group: 'Export', name: 'CSV', expect: { users: 'own', admin: 'all', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ ...MATRIX, export: 'csv', fields: 'id,platform_username' })}`) },
	{ group: 'Export', name: 'JSON', expect: { users: 'own', admin: 'all', public: '403' }, probe: (c) => call(c, 'GET', `/items/${C}?${q({ ...MATRIX, export: 'json', fields: 'id,platform_username' })}`) },
	{ group: 'Import', name: 'update another owner’s row', expect: { users: '403', admin: 'wrote', public: '403' }, probe: (c) => write(c, (v) => importRows(c, C, [{ id: rows[c.victim].connection, credentials_version: v }])) },
	{
		group: 'Import',
		name: 'a row under another owner’s row',
		expect: { users: '403', admin: 'wrote', public: '403' },
		probe: async (c) => {
			const count = async () => (await directus.db.query(`select id from download_credentials where creator_profile_id = ? and platform = 'matrix-import'`, rows[c.victim].connection)).length;
			const before = await count();
			const observed = await importRows(c, 'download_credentials', [{ platform: 'matrix-import', auth_type: 'password', creator_profile_id: rows[c.victim].connection, encrypted_credentials: { p: 1 } }]);
			return { ...observed, wrote: (await count()) > before };
		},
	},
	// Websockets
	{ group: 'Websocket', name: '`items` read', expect: { users: 'own', admin: 'all', public: '401' }, probe: (c) => socket(c, { type: 'items', action: 'read', collection: C, query: { filter: { platform: { _eq: 'matrix' } }, fields: ['id', 'platform_username'] } }) },
	{ group: 'Websocket', name: '`items` counts', expect: { users: 'own', admin: 'all', public: '401' }, probe: count((c) => socket(c, { type: 'items', action: 'read', collection: C, query: { filter: { platform: { _eq: 'matrix' } }, limit: 0, meta: ['filter_count'] } }), (b) => b[0].meta.filter_count) },
	{ group: 'Websocket', name: '`items` update another owner’s row', expect: { users: '403', admin: 'wrote', public: '401' }, probe: (c) => write(c, (v) => socket(c, { type: 'items', action: 'update', collection: C, id: rows[c.victim].connection, data: { credentials_version: v } })) },
	{ group: 'Websocket', name: '`subscribe`, then another owner’s rows change and go', expect: { users: 'own', admin: 'all', public: '401' }, probe: subscribeProbe },
	{
		group: 'Websocket',
		name: '`subscribe` to changes of another owner’s item',
		expect: { users: '403', admin: 'foreign', public: '401' },
		probe: (c) =>
			// With an `event`, Directus subscribes without reading the item: each change of it would then reach the subscriber.
			socket(c, { type: 'subscribe', collection: C, item: rows[c.victim].connection, event: 'update', query: { fields: ['id', 'platform_username'] } }, 300, async () => {
				await api('PATCH', `/items/${C}/${rows[c.victim].connection}`, { token: rows[c.victim].token, body: { credentials_version: 'subscribed' } });
			}),
	},
	{ group: 'Websocket', name: 'GraphQL subscription, then another owner’s rows change and go', expect: { users: 'none', admin: 'foreign', public: '401' }, probe: graphqlSubscriptionProbe },
	{ group: 'Collaboration', name: 'join a room on another owner’s item', expect: { users: '403', admin: 'foreign', public: '401' }, probe: (c) => socket(c, { type: 'collab', action: 'join', collection: C, item: rows[c.victim].connection, version: null }) },
	// MCP
	{ group: 'MCP', name: '`items` read', expect: { users: 'own', admin: 'all', public: '401' }, probe: (c) => mcp(c, 'items', { action: 'read', collection: C, query: { fields: ['id', 'platform_username'], filter: { platform: { _eq: 'matrix' } } } }) },
	{ group: 'MCP', name: '`items` update another owner’s row', expect: { users: '403', admin: 'wrote', public: '401' }, probe: (c) => write(c, (v) => mcp(c, 'items', { action: 'update', collection: C, keys: [rows[c.victim].connection], data: { credentials_version: v } })) },
	// Flows
	{ group: 'Flows', name: 'webhook → Read Data', expect: { users: 'own', admin: 'all', public: 'none' }, probe: flowRead },
	{ group: 'Flows', name: 'webhook → Update Data', expect: { users: 'none', admin: 'wrote', public: 'none' }, probe: flowUpdate },
	{ group: 'Flows', name: 'webhook → Delete Data', expect: { users: 'none', admin: 'wrote', public: 'none' }, probe: flowDelete },
	{ group: 'Flows', name: 'webhook → Create Data under another owner’s row', expect: { users: 'none', admin: 'wrote', public: 'none' }, probe: flowCreate },
	{ group: 'Flows', name: 'manual trigger on another owner’s row', expect: { users: '403', admin: 'none', public: '403' }, probe: manualFlow },
	{ group: 'Flows', name: 'event trigger → Update Data', expect: { users: 'none', admin: 'wrote', public: '403' }, probe: eventFlow },
	// The extension's routes
	{ group: '/credentials', name: '`update-profile-creds` on another owner’s row', expect: { users: '403', admin: 'foreign', public: '401', server: '401' }, probe: (c) => call(c, 'POST', '/credentials/update-profile-creds', { creator_profile_id: rows[c.victim].connection, credentials: { p: 1 } }) },
	{ group: '/credentials', name: '`create-download-cred` under another owner’s row', expect: { users: '403', admin: 'none', public: '401', server: '401' }, probe: (c) => call(c, 'POST', '/credentials/create-download-cred', { platform: 'matrix', creator_profile_id: rows[c.victim].connection, auth_type: 'password', credentials: { password: 'x' } }) },
	{ group: '/credentials', name: '`field-status` of another owner’s row', expect: { users: '404', admin: 'none', public: '401', server: '401' }, probe: (c) => call(c, 'GET', `/credentials/field-status?${q({ collection: C, field: 'encrypted_credentials', id: rows[c.victim].connection })}`) },
	{ group: '/credentials', name: 'vault list', expect: { users: 'own', admin: 'own', public: '401', server: '401' }, probe: (c) => call(c, 'GET', '/credentials?service=openai') },
	{ group: '/credentials', name: 'vault entry of another owner', expect: { users: '404', admin: '404', public: '401', server: '401' }, probe: (c) => call(c, 'GET', `/credentials/${rows[c.victim].vault}`) },
	{ group: '/credentials', name: '`reveal` (server route)', expect: { users: '401', admin: '401', public: '401', server: 'foreign' }, plaintext: true, probe: (c) => call(c, 'POST', '/credentials/reveal', { creatorProfileId: rows[c.victim].connection }) },
	{ group: '/credentials', name: '`get-platform-session` (server route)', expect: { users: '401', admin: '401', public: '401', server: 'foreign' }, plaintext: true, probe: (c) => call(c, 'POST', '/credentials/get-platform-session', { creator_profile_id: rows[c.victim].connection, platform: 'matrix' }) },
	// Plaintext: drafts, revisions, activity, errors and logs — on the caller's own row, so that only the mask is owed.
	{ group: 'Plaintext', name: 'draft save, object body', expect: { users: '403', admin: 'own', public: '403' }, probe: async (c) => call(c, 'POST', `/versions/${(await versionFor(c, 'save')).id}/save`, { encrypted_credentials: secretOf('save'), platform_username: rows[ownerOf(c)].username }) },
	{ group: 'Plaintext', name: 'draft save, array body', expect: { users: '403', admin: '400', public: '403' }, probe: async (c) => call(c, 'POST', `/versions/${(await versionFor(c, 'array')).id}/save`, [{ encrypted_credentials: secretOf('array') }]) },
	{
		group: 'Plaintext',
		name: 'draft save, protected field of a related item',
		expect: { users: '403', admin: '400', public: '403' },
		probe: async (c) => call(c, 'POST', `/versions/${(await versionFor(c, 'nested')).id}/save`, { sessions: [{ id: rows[ownerOf(c)].session, encrypted_cookies: secretOf('nested') }] }),
	},
	{ group: 'Plaintext', name: 'draft compare', expect: { users: '403', admin: 'own', public: '403' }, probe: async (c) => call(c, 'GET', `/versions/${(await draftFor(c, 'compare')).id}/compare`) },
	{ group: 'Plaintext', name: 'draft read (`?version=`, `versionRaw`)', expect: { users: '403', admin: 'own', public: '403' }, probe: async (c) => call(c, 'GET', `/items/${C}/${rows[ownerOf(c)].connection}?${q({ version: (await draftFor(c, 'raw')).key, versionRaw: 'true' })}`) },
	{
		group: 'Plaintext',
		name: 'draft promote',
		expect: { users: '403', admin: 'own', public: '403' },
		probe: async (c) => {
			const draft = await draftFor(c, 'promote');
			const { mainHash } = (await api('GET', `/versions/${draft.id}/compare`, { token: directus.adminToken })).body.data;
			return call(c, 'POST', `/versions/${draft.id}/promote`, { mainHash });
		},
	},
	{
		group: 'Plaintext',
		name: 'revert to an earlier revision',
		expect: { users: '403', admin: 'none', public: '403' },
		probe: async (c) => {
			const [revision] = await directus.db.query<{ id: number }>(`select id from directus_revisions where collection = ? and item = ? and version is null order by id desc`, C, rows[ownerOf(c)].connection);
			return call(c, 'POST', `/utils/revert/${revision!.id}`);
		},
	},
	{ group: 'Plaintext', name: 'revisions of one’s own row', expect: { users: '403', admin: 'own', public: '403' }, probe: (c) => call(c, 'GET', `/revisions?${q({ 'filter[item][_eq]': rows[ownerOf(c)].connection, fields: 'collection,data,delta' })}`) },
	{ group: 'Plaintext', name: 'activity with its revisions', expect: { users: '403', studio: 'none', admin: 'own', public: '403' }, probe: (c) => call(c, 'GET', `/activity?${q({ 'filter[item][_eq]': rows[ownerOf(c)].connection, fields: 'id,revisions.data,revisions.delta' })}`) },
	{
		group: 'Plaintext',
		name: 'error: GraphQL type error on a protected field',
		expect: { users: '400', admin: '400', public: '400' },
		probe: (c) =>
			graphqlStatus(call(c, 'POST', '/graphql', { query: `mutation ($d: create_${C}_input!) { create_${C}_item(data: $d) { id } }`, variables: { d: { platform: 'typed', encrypted_credentials: { password: secretOf('graphql') } } } })),
	},
	{ group: 'Plaintext', name: 'error: unique violation beside a protected field', expect: { users: '400', admin: '400', public: '403' }, probe: (c) => call(c, 'POST', `/items/${C}`, { id: rows[ownerOf(c)].connection, platform: 'dup', encrypted_credentials: secretOf('unique') }) },
	{ group: 'Plaintext', name: '`/websocket/logs` while secrets are written and refused', expect: { users: '401', admin: 'own', public: '401' }, probe: logsProbe },
	{ group: '/credentials', name: '`reveal-key` (server route)', expect: { users: '401', admin: '401', public: '401', server: 'foreign' }, plaintext: true, probe: (c) => call(c, 'POST', '/credentials/reveal-key', { id: rows[c.victim].vault }) },
];

/** A content version (draft) of the owner's connection, made by the admin once. */
const drafts: Partial<Record<Owner, string>> = {};
async function draftOf(owner: Owner): Promise<string> {
	if (drafts[owner]) return drafts[owner]!;
	const key = `draft-${owner}`.toLowerCase();
	const created = await api('POST', '/versions', { token: directus.adminToken, body: { key, name: key, collection: C, item: rows[owner].connection } });
	expect(created.status, created.text).toBe(200);
	return (drafts[owner] = key);
}

/** Secrets the plaintext probes write: no answer, and no log line, may ever carry one. */
const fresh: string[] = [];
const secretOf = (label: string) => {
	const value = `pt-${label}-${randomBytes(4).toString('hex')}`;
	fresh.push(value);
	return value;
};
const ownerOf = (c: Caller): Owner => c.owner ?? c.victim;
/** A fresh content version of the caller's own connection, made by the admin (users hold no version permissions). */
async function versionFor(c: Caller, label: string): Promise<{ id: string; key: string }> {
	const key = `pt-${label}-${c.role}-${randomBytes(2).toString('hex')}`.toLowerCase();
	const created = await api('POST', '/versions', { token: directus.adminToken, body: { key, name: key, collection: C, item: rows[ownerOf(c)].connection } });
	expect(created.status, created.text).toBe(200);
	return { id: created.body.data.id, key };
}
/** …with a draft of a fresh secret in it. */
async function draftFor(c: Caller, label: string) {
	const version = await versionFor(c, label);
	const saved = await api('POST', `/versions/${version.id}/save`, { token: directus.adminToken, body: { encrypted_credentials: secretOf(label) } });
	expect(saved.status, saved.text).toBe(200);
	return version;
}
/** Streams the server's logs as the caller while the caller's own row gets a secret and a refused one. */
async function logsProbe(c: Caller): Promise<Observation> {
	// The logs socket authenticates at the handshake only (a token in the URL): without one Directus refuses the upgrade.
	const ws = await openSocket(directus, undefined, `/websocket/logs?access_token=${c.token ?? ''}`).catch(() => null);
	if (!ws) return { status: 401, text: '' };
	try {
		ws.send({ type: 'subscribe', log_level: 'trace' });
		const reply = await ws.next(() => true);
		const refused = reply.status === 'error' || reply.action === 'error' || reply.type === 'error';
		const owner = rows[ownerOf(c)];
		await api('PATCH', `/items/${C}/${owner.connection}`, { token: owner.token, body: { encrypted_credentials: { password: secretOf('logged') } } });
		// Refused in GraphQL's validation (logged at debug) and in its variable coercion (logged at error, so streamed).
		await api('POST', '/graphql', { token: owner.token, body: { query: `mutation { create_${C}_item(data: { platform: "typed", encrypted_credentials: { password: "${secretOf('logged-error')}" } }) { id } }` } });
		await api('POST', '/graphql', {
			token: owner.token,
			body: { query: `mutation ($d: create_${C}_input!) { create_${C}_item(data: $d) { id } }`, variables: { d: { platform: 'typed', encrypted_credentials: { password: secretOf('logged-variable') } } } },
		});
		await new Promise((r) => setTimeout(r, 400));
		return { status: refused ? statusOfCode(reply.error?.code ?? reply.code) : 200, text: JSON.stringify([reply, ...ws.received]) };
	} finally {
		ws.close();
	}
}

/** A probe whose answer is a count: its outcome is read off the number. */
function count(probe: (c: Caller) => Promise<Observation>, pick: (body: any) => unknown): (c: Caller) => Promise<Observation> {
	return async (c) => {
		const observed = await probe(c);
		if (observed.status >= 400) return observed;
		return { ...observed, count: Number(pick(JSON.parse(observed.text))) };
	};
}
/** GraphQL answers 200 with errors: the first error's code is the outcome. */
async function graphqlStatus(observation: Promise<Observation>): Promise<Observation> {
	const observed = await observation;
	const body = JSON.parse(observed.text);
	return body.errors?.length ? { ...observed, status: statusOfCode(body.errors[0].extensions?.code) } : observed;
}
function deletes(attempt: (c: Caller, id: string) => Promise<Observation>): (c: Caller) => Promise<Observation> {
	return async (c) => {
		const id = await throwaway(c);
		const observed = await attempt(c, id);
		return { ...observed, wrote: !(await exists(id)) };
	};
}
async function importRows(c: Caller, collection: string, data: unknown[]): Promise<Observation> {
	const form = new FormData();
	form.append('file', new Blob([JSON.stringify(data)], { type: 'application/json' }), 'rows.json');
	const headers: Record<string, string> = { ...c.headers };
	if (c.token) headers['authorization'] = `Bearer ${c.token}`;
	const res = await fetch(`${directus.url}/utils/import/${collection}`, { method: 'POST', headers, body: form });
	return { status: res.status, text: await res.text() };
}
async function subscribeProbe(c: Caller): Promise<Observation> {
	const victim = rows[c.victim];
	const doomed = await throwaway(c);
	return socket(c, { type: 'subscribe', collection: C, query: { fields: ['id', 'platform_username'], filter: { platform: { _in: ['matrix', 'matrix-throwaway'] } } } }, 500, async () => {
		// The victim's rows change and one goes: a subscriber of another owner learns nothing of it.
		await api('PATCH', `/items/${C}/${victim.connection}`, { token: victim.token, body: { credentials_version: `s-${randomBytes(2).toString('hex')}` } });
		await api('DELETE', `/items/${C}/${doomed}`, { token: victim.token });
		// A doomed row's id counts as the victim's marker.
		victimExtras.push(doomed);
	});
}
async function graphqlSubscriptionProbe(c: Caller): Promise<Observation> {
	const victim = rows[c.victim];
	const doomed = await throwaway(c);
	const subscription = await graphqlSubscription(directus, c.token, `subscription { ${C}_mutated { key event data { id platform_username } } }`);
	try {
		if (!subscription.acknowledged) return { status: 401, text: JSON.stringify(subscription.received) };
		await new Promise((r) => setTimeout(r, 300));
		await api('PATCH', `/items/${C}/${victim.connection}`, { token: victim.token, body: { credentials_version: `g-${randomBytes(2).toString('hex')}` } });
		await api('DELETE', `/items/${C}/${doomed}`, { token: victim.token });
		victimExtras.push(doomed);
		await new Promise((r) => setTimeout(r, 500));
		return { status: 200, text: JSON.stringify(subscription.received) };
	} finally {
		subscription.close();
	}
}
/** Ids of victims' throwaway rows seen in subscriptions: they are the victim's markers too. */
const victimExtras: string[] = [];

async function flowRead(c: Caller) {
	const id = await flow('matrix read', 'webhook', { type: 'item-read', options: { collection: C, permissions: '$trigger', query: { fields: ['id', 'platform_username'], filter: { platform: { _eq: 'matrix' } } } } });
	return call(c, 'POST', `/flows/trigger/${id}`);
}
async function flowUpdate(c: Caller) {
	const id = await flow('matrix update', 'webhook', { type: 'item-update', options: { collection: C, permissions: '$trigger', key: ['{{$trigger.body.id}}'], payload: { credentials_version: '{{$trigger.body.v}}' } } });
	const observed = await write(c, (v) => call(c, 'POST', `/flows/trigger/${id}`, { id: rows[c.victim].connection, v }));
	return { ...observed, status: 200 };
}
async function flowDelete(c: Caller) {
	const id = await flow('matrix delete', 'webhook', { type: 'item-delete', options: { collection: C, permissions: '$trigger', key: ['{{$trigger.body.id}}'] } });
	const observed = await deletes((c2, row) => call(c2, 'POST', `/flows/trigger/${id}`, { id: row }))(c);
	return { ...observed, status: 200 };
}
async function flowCreate(c: Caller) {
	const id = await flow('matrix create', 'webhook', {
		type: 'item-create',
		options: { collection: 'download_credentials', permissions: '$trigger', payload: { platform: 'matrix-flow', auth_type: 'password', creator_profile_id: '{{$trigger.body.id}}', encrypted_credentials: { p: 1 } } },
	});
	const before = await directus.db.query(`select id from download_credentials where creator_profile_id = ? and platform = 'matrix-flow'`, rows[c.victim].connection);
	await call(c, 'POST', `/flows/trigger/${id}`, { id: rows[c.victim].connection });
	const after = await directus.db.query(`select id from download_credentials where creator_profile_id = ? and platform = 'matrix-flow'`, rows[c.victim].connection);
	return { status: 200, text: '', wrote: after.length > before.length };
}
async function manualFlow(c: Caller) {
	const id = await flow('matrix manual', 'manual', { type: 'log', options: { message: 'matrix' } }, { collections: [C], requireSelection: true });
	return call(c, 'POST', `/flows/trigger/${id}`, { collection: C, keys: [rows[c.victim].connection] });
}
async function eventFlow(c: Caller) {
	// When a session is created, tag the connection its `user_agent` names with its `platform`, as whoever created the session.
	await flow(
		'matrix event',
		'event',
		{
			type: 'item-update',
			options: { collection: C, permissions: '$trigger', key: ['{{$trigger.payload.user_agent}}'], payload: { credentials_version: '{{$trigger.payload.platform}}' } },
		},
		{ type: 'action', scope: ['items.create'], collections: ['platform_sessions'] },
	);
	return write(c, async (v) => {
		const session = await api('POST', '/items/platform_sessions', {
			token: c.token,
			headers: c.headers,
			body: { platform: v, creator_profile_id: c.owner ? rows[c.owner].connection : rows.A.connection, user_agent: rows[c.victim].connection, encrypted_cookies: [] },
		});
		await new Promise((r) => setTimeout(r, 500));
		// The answer echoes the session just sent (which names the victim's row): only the write's effect counts.
		return { status: session.status, text: '' };
	});
}

/** Which owners' markers an answer holds. */
function ownersIn(text: string, c: Caller): Set<Owner> {
	const seen = new Set<Owner>();
	for (const owner of OWNERS) {
		const markers = [...markersOf(owner), ...(owner === c.victim ? victimExtras : [])];
		if (markers.some((m) => text.includes(m))) seen.add(owner);
	}
	return seen;
}

function outcomeOf(observed: Observation, c: Caller): Outcome {
	if (observed.wrote) return 'wrote';
	if (observed.status >= 400) return String(observed.status) as Outcome;
	if (observed.count !== undefined) {
		if (observed.count === 0) return 'none';
		if (observed.count === OWNERS.length) return 'all';
		return c.owner && observed.count === 1 ? 'own' : 'foreign';
	}
	const seen = ownersIn(observed.text, c);
	if (seen.size === 0) return 'none';
	if (c.owner && seen.size === 1 && seen.has(c.owner)) return 'own';
	return seen.size === OWNERS.length ? 'all' : 'foreign';
}

const expected = (channel: Channel, role: Role): Outcome => {
	if (role === 'admin' || role === 'public') return channel.expect[role];
	if (role === 'server') return channel.expect.server ?? channel.expect.public;
	if (role === 'studio') return channel.expect.studio ?? channel.expect.users;
	return channel.expect.users;
};

describe('channel × role matrix', () => {
	for (const channel of CHANNELS) {
		it(`${channel.group}: ${channel.name}`, async () => {
			const row = new Map<Role, Outcome>();
			results.set(`${channel.group}|${channel.name}`, row);
			for (const c of callers()) {
				const observed = await channel.probe(c);
				const outcome = outcomeOf(observed, c);
				row.set(c.role, outcome);
				const where = `${channel.group}: ${channel.name} as ${c.role}: ${observed.status} ${observed.text.slice(0, 400)}`;
				expect.soft(outcome, where).toBe(expected(channel, c.role));
				// The plaintext side of the promise: no envelope anywhere, and plaintext only from the server's reveal routes.
				expect.soft(observed.text, where).not.toContain('cred:v2:');
				if (!channel.plaintext) for (const p of [...OWNERS.flatMap((owner) => rows[owner].plaintexts), ...fresh]) expect.soft(observed.text, where).not.toContain(p);
			}
		});
	}
	afterAll(retireFlows);
});

describe('the server log', () => {
	it('holds, at trace level, none of the secrets written, refused or revealed, and no envelope', () => {
		const log = directus.log();
		expect(log.length).toBeGreaterThan(10_000);
		expect(fresh.length).toBeGreaterThan(10);
		for (const p of [...OWNERS.flatMap((owner) => rows[owner].plaintexts), ...fresh]) expect.soft(log).not.toContain(p);
		expect(log).not.toMatch(/cred:v2:[0-9a-f]{8}:/);
	});
});

const START = '<!-- isolation-matrix:start -->';
const END = '<!-- isolation-matrix:end -->';

describe('the README', () => {
	it('carries the matrix this suite observed', () => {
		expect(results.size, 'the matrix ran first').toBe(CHANNELS.length);
		const header = `| Channel | ${ROLES.map((r) => HEADINGS[r]).join(' | ')} |\n|---|${ROLES.map(() => '---').join('|')}|\n`;
		const lines = CHANNELS.map((ch) => `| ${ch.group}: ${ch.name} | ${ROLES.map((r) => results.get(`${ch.group}|${ch.name}`)!.get(r)).join(' | ')} |`);
		const table = `${START}\n${header}${lines.join('\n')}\n${END}`;
		const readme = readFileSync('README.md', 'utf8');
		const current = readme.slice(readme.indexOf(START), readme.indexOf(END) + END.length);
		if (process.env.MATRIX_WRITE && current !== table) writeFileSync('README.md', readme.replace(current, table));
		else expect(current).toBe(table);
	});
});
