import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import knex from 'knex';
import { keyId } from '../../src/crypto/index.js';
import { censusHead, statisticsName } from '../../src/lifecycle/census-statistics.js';
import { client, createCredentialsUser } from '../../tools/harness/api.js';
import { databaseExists } from '../../scripts/local-env.mjs';
import { createTestDatabase } from '../../tools/harness/database.js';
import { newKeyB64, startDirectus, type Instance } from '../../tools/harness/directus.js';

/**
 * The production shape: two Directus instances on one PostgreSQL database, sharing Redis for
 * cache, synchronisation and messages, with the cache on. Runs in the postgres project only.
 */
const redis = (namespace: string) => ({
	REDIS: 'redis://127.0.0.1:6379',
	SYNCHRONIZATION_STORE: 'redis',
	CACHE_STORE: 'redis',
	MESSENGER_STORE: 'redis',
	RATE_LIMITER_STORE: 'redis',
	CACHE_ENABLED: 'true',
	CACHE_AUTO_PURGE: 'true',
	CACHE_NAMESPACE: namespace,
	CACHE_TTL: '5m',
});

let a: Instance;
let b: Instance;
let apiA: ReturnType<typeof client>;
let apiB: ReturnType<typeof client>;
let user: { id: string; token: string };
const keyOne = newKeyB64();
const secretHeader = () => ({ 'X-RBAC-SYNC-SECRET': a.env.RBAC_SYNC_WEBHOOK_SECRET! });

beforeAll(async () => {
	const shared = { ...redis(`creds-${randomBytes(4).toString('hex')}`), CREDENTIALS_ENC_KEY_B64: keyOne, RBAC_SYNC_WEBHOOK_SECRET: randomBytes(16).toString('hex') };
	a = await startDirectus({ env: shared, skipSetup: true });
	b = await startDirectus({ env: { ...shared, KEY: a.env.KEY, SECRET: a.env.SECRET, ADMIN_EMAIL: a.env.ADMIN_EMAIL, ADMIN_PASSWORD: a.env.ADMIN_PASSWORD }, database: a.db, prepared: true });
	apiA = client(a);
	apiB = client(b);
}, 600_000);
afterAll(async () => {
	await b?.stop();
	await a?.stop();
});

describe('two instances on one PostgreSQL database behind Redis', () => {
	it('setup run by both at the same moment creates the schema, policy and role once', async () => {
		const [one, two] = await Promise.all([a.cli(['credentials', 'setup', '--json']), b.cli(['credentials', 'setup', '--json'])]);
		expect([one.code, two.code], one.stderr + two.stderr).toEqual([0, 0]);
		const policies = await a.db.query(`select id from directus_policies where name = 'Credentials Owner'`);
		expect(policies).toHaveLength(1);
		expect(await a.db.query(`select id from directus_roles where name = 'Credentials User'`)).toHaveLength(1);
		expect(await a.db.query(`select id from directus_access where policy = ?`, policies[0]!.id as string)).toHaveLength(1);
		const permissions = await a.db.query<{ collection: string; action: string; n: number }>(
			`select collection, action, count(*) as n from directus_permissions where policy = ? group by collection, action`,
			policies[0]!.id as string,
		);
		expect(permissions.length).toBe(5 * 4);
		expect(permissions.every((p) => p.n === 1)).toBe(true);
		// Both come up with the schema.
		await Promise.all([a.restart(), b.restart()]);
		for (const api of [apiA, apiB]) expect((await api('GET', '/collections/platform_connections', { token: a.adminToken })).status).toBe(200);
		user = await createCredentialsUser(a, 'prod');
	});

	it('a write through A reveals through B, and the reverse', async () => {
		const created = await apiA('POST', '/credentials/create-profile', { token: user.token, body: { platform: 'instagram', credentials: { via: 'A' } } });
		expect(created.status).toBe(200);
		expect(await apiB('POST', '/credentials/reveal', { body: { creatorProfileId: created.body.id }, headers: secretHeader() })).toMatchObject({ status: 200, body: { credentials: { via: 'A' } } });
		await apiB('POST', '/credentials/store', { body: { creatorProfileId: created.body.id, credentials: { via: 'B' } }, headers: secretHeader() });
		expect((await apiA('POST', '/credentials/reveal', { body: { creatorProfileId: created.body.id }, headers: secretHeader() })).body.credentials).toEqual({ via: 'B' });
	});

	it('with the cache on, /items never serves a stale or unmasked value', async () => {
		const created = await apiA('POST', '/credentials/create-profile', { token: user.token, body: { platform: 'cache', platform_username: 'before', credentials: { secret: 'CACHE-CANARY-1' } } });
		const id = created.body.id;
		const read = async (api: typeof apiA) => api('GET', `/items/platform_connections/${id}`, { token: user.token });
		const first = await read(apiA);
		expect(first.body.data).toMatchObject({ platform_username: 'before', encrypted_credentials: '**********' });
		expect((await read(apiA)).body.data.platform_username).toBe('before'); // now cached
		await apiB('PATCH', `/items/platform_connections/${id}`, { token: user.token, body: { platform_username: 'after', encrypted_credentials: { secret: 'CACHE-CANARY-2' } } });
		for (const api of [apiA, apiB]) {
			const again = await read(api);
			expect(again.body.data).toMatchObject({ platform_username: 'after', encrypted_credentials: '**********' });
			expect(again.text).not.toMatch(/CACHE-CANARY|cred:v2/);
		}
		expect((await apiA('POST', '/credentials/reveal', { body: { creatorProfileId: id }, headers: secretHeader() })).body.credentials).toEqual({ secret: 'CACHE-CANARY-2' });
	});

	it('a field protected from the data model on A is sealed by B from its next request, without a restart', async () => {
		const collection = `notes_${randomBytes(3).toString('hex')}`;
		const id = { field: 'id', type: 'uuid', meta: { hidden: true, readonly: true, special: ['uuid'] }, schema: { is_primary_key: true, length: 36 } };
		expect((await apiA('POST', '/collections', { token: a.adminToken, body: { collection, meta: {}, schema: {}, fields: [id] } })).status).toBe(200);
		expect((await apiA('POST', `/fields/${collection}`, { token: a.adminToken, body: { field: 'token', type: 'text', meta: { interface: 'input' }, schema: {} } })).status).toBe(200);
		// B has read the collection's schema before the field is protected.
		const before = await apiB('POST', `/items/${collection}`, { token: a.adminToken, body: { token: 'before' } });
		expect(before.body.data.token).toBe('before');
		expect((await apiA('PATCH', `/fields/${collection}/token`, { token: a.adminToken, body: { meta: { interface: 'credentials-secret' } } })).status).toBe(200);
		// Directus tells B through Redis that the schema changed (a message, not a request: give it a moment).
		await new Promise((r) => setTimeout(r, 500));
		const after = await apiB('POST', `/items/${collection}`, { token: a.adminToken, body: { token: 'after' } });
		expect(after.status, after.text).toBe(200);
		expect(after.body.data.token).toBe('**********');
		const rows = await a.db.query<{ token: string }>(`select token from "${collection}" where id = ?`, after.body.data.id);
		expect(rows[0]!.token).toMatch(/^cred:v2:/);
		expect((await apiB('GET', `/items/${collection}/${before.body.data.id}`, { token: a.adminToken })).body.data.token).toBe('**********');
	});

	it('rotates while both instances serve traffic: no failed request, no lost write', async () => {
		const original = new Map<string, unknown>();
		for (let i = 0; i < 300; i += 100) {
			const rows = Array.from({ length: 100 }, (_, j) => ({ platform: 'rot', platform_username: `r${i + j}`, encrypted_credentials: { n: i + j } }));
			const res = await apiA('POST', '/items/platform_connections?fields=id,platform_username', { token: a.adminToken, body: rows });
			for (const r of res.body.data as { id: string; platform_username: string }[]) original.set(r.id, { n: Number(r.platform_username.slice(1)) });
		}
		const ids = [...original.keys()];
		const keyTwo = newKeyB64();
		// Rolling restart onto the new key, the old one kept for reading.
		await a.restart({ CREDENTIALS_ENC_KEY_B64: keyTwo, CREDENTIALS_ENC_PREVIOUS_KEYS_B64: keyOne });
		await b.restart({ CREDENTIALS_ENC_KEY_B64: keyTwo, CREDENTIALS_ENC_PREVIOUS_KEYS_B64: keyOne });
		const live = ids.slice(0, 30);
		const last = new Map<string, unknown>();
		const failures: string[] = [];
		let running = true;
		const traffic = (async () => {
			for (let round = 0; running || round < 2; round++) {
				for (const [i, id] of live.entries()) {
					const [writer, reader] = i % 2 ? [apiA, apiB] : [apiB, apiA];
					const value = { round, nonce: randomBytes(3).toString('hex') };
					const stored = await writer('POST', '/credentials/store', { body: { creatorProfileId: id, credentials: value }, headers: secretHeader() });
					if (stored.status !== 200) failures.push(`store ${stored.status}`);
					else last.set(id, value);
					const revealed = await reader('POST', '/credentials/reveal', { body: { creatorProfileId: id }, headers: secretHeader() });
					if (revealed.status !== 200 || JSON.stringify(revealed.body.credentials) !== JSON.stringify(last.get(id))) failures.push(`reveal ${revealed.status}`);
				}
			}
		})();
		const rotate = await a.cli(['credentials', 'rotate', '--json', '--batch-size', '50']);
		running = false;
		await traffic;
		expect(rotate.code, rotate.stderr).toBe(0);
		expect(failures).toEqual([]);
		const status = JSON.parse((await b.cli(['credentials', 'status', '--json'])).stdout.trim().split('\n').pop()!);
		const connections = status.fields.find((f: { field: string }) => f.field === 'platform_connections.encrypted_credentials');
		expect(Object.keys(connections.byKeyId)).toEqual([keyId(Buffer.from(keyTwo, 'base64'))]);
		for (const [i, id] of ids.entries()) {
			const want = last.get(id) ?? original.get(id);
			const got = await (i % 2 ? apiA : apiB)('POST', '/credentials/reveal', { body: { creatorProfileId: id }, headers: secretHeader() });
			expect(got.body.credentials, id).toEqual(want);
		}
	});
});

describe('machine identities on two instances', () => {
	it("share one count of an identity's reveals through Redis, and a revocation on A closes B at once", async () => {
		const created = await apiA('POST', '/credentials/identities', { token: a.adminToken, body: { name: `shared-limit-${randomBytes(3).toString('hex')}`, routes: ['reveal'], rate_limit: 4 } });
		expect(created.status, created.text).toBe(201);
		const profile = await apiA('POST', '/credentials/create-profile', { token: user.token, body: { platform: 'limit', credentials: { n: 1 } } });
		const reveal = (api: typeof apiA) => api('POST', '/credentials/reveal', { body: { creatorProfileId: profile.body.id }, headers: { 'X-RBAC-SYNC-SECRET': created.body.token } });
		// Two on each instance spend the minute's four; a fifth on either is refused. A minute boundary inside would start the count again: then once more.
		let statuses: number[] = [];
		for (let attempt = 0; attempt < 2; attempt++) {
			statuses = [];
			for (const api of [apiA, apiB, apiA, apiB, apiA, apiB]) statuses.push((await reveal(api)).status);
			if (statuses.filter((s) => s === 200).length === 4) break;
			await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 100));
		}
		expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
		expect((await apiB('POST', `/credentials/identities/${created.body.id}/revoke`, { token: a.adminToken })).status).toBe(200);
		expect((await reveal(apiA)).status).toBe(401);
	}, 180_000);
});

describe('wrapped data keys on two instances', () => {
	it('a new data key becomes current only once both instances read it; one that cannot unwrap it holds the promotion back', async () => {
		const kek = randomBytes(32).toString('base64');
		const wrapping = { CREDENTIALS_KEK_PROVIDER: 'local', CREDENTIALS_KEYS_POLL_SECONDS: '0.5' };
		await a.restart({ ...wrapping, CREDENTIALS_KEK_LOCAL_B64: kek });
		// B is configured with another KEK: it cannot unwrap what A's CLI wraps.
		await b.restart({ ...wrapping, CREDENTIALS_KEK_LOCAL_B64: randomBytes(32).toString('base64') });
		const environmentKey = (await apiA('GET', '/credentials/status', { token: a.adminToken })).body.keys.current;

		const refused = await a.cli(['credentials', 'keys', 'init', '--kek', 'local', '--wait', '3', '--json']);
		expect(refused.code).toBe(1);
		const error = JSON.parse(refused.stdout.trim().split('\n').pop()!).error as string;
		expect(error).toMatch(/not promoted: 1 running instance\(s\) have not unwrapped/);
		const [pending] = await a.db.query<{ key_id: string; state: string }>('select key_id, state from credentials_keys where wrapped is not null');
		expect(pending!.state).toBe('pending');
		// Nothing is written with it meanwhile: both still write with the environment's key.
		for (const api of [apiA, apiB]) expect((await api('GET', '/credentials/status', { token: a.adminToken })).body.keys.current).toBe(environmentKey);
		expect(b.log()).toMatch(new RegExp(`data key ${pending!.key_id}`));

		await b.restart({ ...wrapping, CREDENTIALS_KEK_LOCAL_B64: kek });
		const promoted = await a.cli(['credentials', 'keys', 'promote', pending!.key_id, '--wait', '30', '--json']);
		expect(promoted.code, promoted.stderr).toBe(0);
		expect(JSON.parse(promoted.stdout.trim().split('\n').pop()!)).toMatchObject({ ok: true, readers: 2 });
		for (const api of [apiA, apiB]) {
			for (let i = 0; i < 50 && (await api('GET', '/credentials/status', { token: a.adminToken })).body.keys.current !== pending!.key_id; i++) await new Promise((r) => setTimeout(r, 100));
		}
		const created = await apiB('POST', '/credentials/create-profile', { token: user.token, body: { platform: 'wrapped', credentials: { via: 'B' } } });
		expect(created.status, created.text).toBe(200);
		const [row] = await a.db.query<{ encrypted_credentials: string }>('select encrypted_credentials from platform_connections where id = ?', created.body.id);
		expect(row!.encrypted_credentials).toContain(`cred:v2:${pending!.key_id}:`);
		expect((await apiA('POST', '/credentials/reveal', { body: { creatorProfileId: created.body.id }, headers: secretHeader() })).body.credentials).toEqual({ via: 'B' });
	});
});

describe('npm start pointed at PostgreSQL (DB_CLIENT=pg)', () => {
	it('asks Directus whether the database holds an installation before it would generate secrets for it', async () => {
		expect(await databaseExists({ ...a.env, CONFIG_PATH: '/dev/null' })).toBe('yes');
		const empty = await createTestDatabase(a.dir);
		try {
			expect(await databaseExists({ ...a.env, ...empty.env, CONFIG_PATH: '/dev/null' })).toBe('no');
		} finally {
			await empty.drop();
		}
		// One that cannot be reached is never taken for new.
		expect(await databaseExists({ ...a.env, DB_DATABASE: `creds_absent_${randomBytes(4).toString('hex')}`, CONFIG_PATH: '/dev/null' })).toBe('unknown');
	});
});

describe('status on a large PostgreSQL table', () => {
	it('gives the planner statistics on what the census groups by, so it counts in parallel: a few groups, not one per row', async () => {
		const collection = `census_${randomBytes(3).toString('hex')}`;
		const id = { field: 'id', type: 'uuid', meta: { hidden: true, readonly: true, special: ['uuid'] }, schema: { is_primary_key: true, length: 36 } };
		expect((await apiA('POST', '/collections', { token: a.adminToken, body: { collection, meta: {}, schema: {}, fields: [id] } })).status).toBe(200);
		expect((await apiA('POST', `/fields/${collection}`, { token: a.adminToken, body: { field: 'token', type: 'text', meta: { interface: 'input' }, schema: {} } })).status).toBe(200);
		const current = keyId(Buffer.from(keyOne, 'base64'));
		// Envelope-shaped values, each distinct, as a table of sealed secrets is (the census reads their prefix only).
		await a.db.execute(`insert into "${collection}" (id, token) select gen_random_uuid(), 'cred:v2:' || ? || ':' || md5(i::text) from generate_series(1, 3000) i`, current);
		await a.db.execute(`analyze "${collection}"`);
		const head = censusHead(knex({ client: 'pg' }), 'token').toQuery();
		const estimatedGroups = async () => {
			const [row] = await a.db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`explain (format json) select ${head} as k, count(*) from "${collection}" group by 1`);
			return row!['QUERY PLAN'][0].Plan['Plan Rows'];
		};
		// What the planner assumes without them: every value a group of its own (and so it counts on one core).
		expect(await estimatedGroups()).toBeGreaterThan(1000);

		expect((await apiA('PATCH', `/fields/${collection}/token`, { token: a.adminToken, body: { meta: { interface: 'credentials-secret' } } })).status).toBe(200);
		const status = await apiA('GET', '/credentials/status', { token: a.adminToken });
		expect(status.status, status.text).toBe(200);
		const field = (status.body.fields as { field: string; byKeyId: Record<string, number> }[]).find((f) => f.field === `${collection}.token`);
		expect(field?.byKeyId).toEqual({ [current]: 3000 });
		expect(await a.db.query('select stxname from pg_statistic_ext where stxname = ?', statisticsName({ collection, field: 'token' }))).toHaveLength(1);
		expect(await estimatedGroups()).toBeLessThan(10);
	});
});
