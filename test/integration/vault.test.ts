import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src/hook/handlers/mask-on-read.js';
import { newKeyB64, type Instance } from '../../tools/harness/directus.js';
import { useDirectus, type Api, type TestUser } from './fixture.js';

/** The personal API-key vault (seed 004) with a passphrase-derived key (Argon2id, 256 MiB). */
const passphrase = `correct horse battery staple ${randomBytes(4).toString('hex')}`;
const suite = useDirectus({
	env: { CREDENTIALS_ENC_KEY_B64: undefined, CREDENTIALS_MASTER_PASSPHRASE: passphrase, CREDENTIALS_KDF_SALT_B64: randomBytes(16).toString('base64') },
	users: ['a', 'b'],
});
let directus: Instance;
let api: Api;
let userA: TestUser;
let userB: TestUser;

const create = (token: string | undefined, body: unknown) => api('POST', '/credentials', { token, body });
const revealKey = (id: string) => api('POST', '/credentials/reveal-key', { body: { id }, headers: { 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! } });

beforeAll(() => void ({ directus, api, users: [userA, userB] } = suite));

describe('POST /credentials', () => {
	it('stores the seed example: 201, metadata only, created_at in Unix seconds', async () => {
		const before = Math.floor(Date.now() / 1000);
		const res = await create(userA.token, { service: 'openai', name: 'production', key: 'sk-proj-VAULT-CANARY' });
		expect(res.status).toBe(201);
		expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), service: 'openai', name: 'production', created_at: expect.any(Number), last_used_at: null });
		expect(Number.isInteger(res.body.created_at)).toBe(true);
		expect(res.body.created_at).toBeGreaterThanOrEqual(before - 1);
		expect(res.body.created_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
		expect(res.text).not.toContain('sk-proj');
		expect((await directus.db.query('select encrypted_key as k from api_credentials where id = ?', res.body.id))[0]!.k).toMatch(/^cred:v2:/);
	});

	it('trims inputs and allows several names per service', async () => {
		const one = await create(userA.token, { service: '  anthropic ', name: ' primary ', key: '  sk-ant-1  ' });
		const two = await create(userA.token, { service: 'anthropic', name: 'backup', key: 'sk-ant-2' });
		expect(one.body).toMatchObject({ service: 'anthropic', name: 'primary' });
		expect(two.status).toBe(201);
		expect((await revealKey(one.body.id)).body.key).toBe('sk-ant-1');
	});

	it('answers every validation error', async () => {
		for (const body of [{}, { service: 'openai', name: 'x' }, { service: '  ', name: 'x', key: 'k' }, { service: 'openai', name: '\t', key: 'k' }, { service: 'openai', name: 'x', key: '   ' }, { service: 5, name: 'x', key: 'k' }, []]) {
			const res = await create(userA.token, body);
			expect(res.status, JSON.stringify(body)).toBe(400);
			expect(res.body).toMatchObject({ success: false, error: 'service, name, and key are required' });
		}
		for (const service of ['aws', 'custom.', 'custom.UPPER', `custom.${'x'.repeat(65)}`, 'custom.a b', 'openai2']) {
			const res = await create(userA.token, { service, name: 'x', key: 'k' });
			expect(res.status, service).toBe(400);
			expect(res.body.error).toMatch(/^service must be/);
		}
		expect((await create(userA.token, { service: 'custom.my_tool-2', name: 'x', key: 'k' })).status).toBe(201);
		expect(await create(undefined, { service: 'openai', name: 'x', key: 'k' })).toMatchObject({ status: 401, body: { error: 'Unauthorized' } });
	});

	it('refuses the same (owner, service, name) twice with 409; another user may use the name', async () => {
		expect((await create(userA.token, { service: 'binance', name: 'main', key: 'b1' })).status).toBe(201);
		const again = await create(userA.token, { service: 'binance', name: 'main', key: 'b2' });
		expect(again.status).toBe(409);
		expect(again.body.error).toContain('already exists');
		expect(again.text).not.toContain('b2');
		expect((await create(userB.token, { service: 'binance', name: 'main', key: 'b3' })).status).toBe(201);
	});

	it('lands 50 concurrent creates with distinct names, and only one of 50 with the same name', async () => {
		const distinct = await Promise.all(Array.from({ length: 50 }, (_, i) => create(userA.token, { service: 'custom.load', name: `n${i}`, key: `k${i}` })));
		expect(distinct.map((r) => r.status)).toEqual(Array(50).fill(201));
		const same = await Promise.all(Array.from({ length: 50 }, (_, i) => create(userA.token, { service: 'custom.race', name: 'one', key: `k${i}` })));
		const statuses = same.map((r) => r.status).sort();
		expect(statuses.filter((s) => s === 201)).toHaveLength(1);
		expect(statuses.filter((s) => s === 409)).toHaveLength(49);
		const listed = await api('GET', '/credentials?service=custom.load', { token: userA.token });
		expect(listed.body).toHaveLength(50);
		for (const entry of distinct.map((r) => r.body)) expect((await revealKey(entry.id)).body.key).toBe(`k${entry.name.slice(1)}`);
	});
});

describe('GET and DELETE', () => {
	it('lists and reads metadata only, filterable by service; users see only their own', async () => {
		const mine = await create(userA.token, { service: 'openai', name: 'listing', key: 'sk-list' });
		const all = await api('GET', '/credentials', { token: userA.token });
		expect(all.status).toBe(200);
		expect(all.body.every((e: Record<string, unknown>) => Object.keys(e).sort().join() === 'created_at,id,last_used_at,name,service')).toBe(true);
		expect(all.text).not.toContain('sk-');
		const openai = await api('GET', '/credentials?service=openai', { token: userA.token });
		expect(openai.body.map((e: { service: string }) => e.service)).toEqual(Array(openai.body.length).fill('openai'));
		expect(openai.body.map((e: { id: string }) => e.id)).toContain(mine.body.id);
		const theirs = await api('GET', '/credentials', { token: userB.token });
		expect(theirs.body.map((e: { id: string }) => e.id)).not.toContain(mine.body.id);
		expect(await api('GET', `/credentials/${mine.body.id}`, { token: userA.token })).toMatchObject({ status: 200, body: { id: mine.body.id, service: 'openai', name: 'listing' } });
		expect(await api('GET', `/credentials/${mine.body.id}`, { token: userB.token })).toMatchObject({ status: 404, body: { success: false, error: 'Not found' } });
		expect(await api('DELETE', `/credentials/${mine.body.id}`, { token: userB.token })).toMatchObject({ status: 404 });
		expect((await api('GET', `/credentials/${mine.body.id}`, { token: userA.token })).status).toBe(200);
		expect(await api('GET', '/credentials', {})).toMatchObject({ status: 401 });
	});

	it('deletes with 204', async () => {
		const entry = await create(userA.token, { service: 'openai', name: 'doomed', key: 'sk-doomed' });
		expect((await api('DELETE', `/credentials/${entry.body.id}`, { token: userA.token })).status).toBe(204);
		expect((await api('GET', `/credentials/${entry.body.id}`, { token: userA.token })).status).toBe(404);
		expect((await revealKey(entry.body.id)).status).toBe(404);
	});

	it('plain /items/api_credentials shows the owner the mask, never the key', async () => {
		const entry = await create(userA.token, { service: 'openai', name: 'items-view', key: 'sk-items-CANARY' });
		const one = await api('GET', `/items/api_credentials/${entry.body.id}`, { token: userA.token });
		expect(one.body.data.encrypted_key).toBe(MASK);
		const list = await api('GET', '/items/api_credentials?limit=-1', { token: userA.token });
		expect(list.text).not.toContain('sk-items-CANARY');
		expect(list.body.data.every((r: { encrypted_key: string; owner: string }) => r.encrypted_key === MASK && r.owner === userA.id)).toBe(true);
		expect((await api('GET', `/items/api_credentials/${entry.body.id}`, { token: userB.token })).status).toBe(403);
		// Service and name are fixed once created.
		expect((await api('PATCH', `/items/api_credentials/${entry.body.id}`, { token: userA.token, body: { name: 'renamed' } })).status).toBe(400);
	});
});

describe('POST /credentials/reveal-key', () => {
	it('returns the key to the server secret only, sets last_used_at and audits', async () => {
		const entry = await create(userA.token, { service: 'openai', name: 'reveal', key: 'sk-reveal-me' });
		expect(await api('POST', '/credentials/reveal-key', { token: directus.adminToken, body: { id: entry.body.id } })).toMatchObject({ status: 401 });
		expect(await api('POST', '/credentials/reveal-key', { token: userA.token, body: { id: entry.body.id } })).toMatchObject({ status: 401 });
		const res = await revealKey(entry.body.id);
		expect(res.body).toEqual({ success: true, id: entry.body.id, service: 'openai', name: 'reveal', key: 'sk-reveal-me' });
		const meta = await api('GET', `/credentials/${entry.body.id}`, { token: userA.token });
		expect(meta.body.last_used_at).toBeGreaterThanOrEqual(meta.body.created_at);
		const audit = await directus.db.query(`select route, caller, collection, outcome from credentials_audit where item = ?`, entry.body.id);
		expect(audit).toEqual([{ route: 'reveal-key', caller: 'shared-secret', collection: 'api_credentials', outcome: 'revealed' }]);
		expect(await revealKey('not-a-uuid')).toMatchObject({ status: 400 });
	});
});

describe('passphrase-derived key', () => {
	it('decrypts after a restart, and the database never holds a key in the clear', async () => {
		const entry = await create(userA.token, { service: 'openai', name: 'restart', key: 'sk-survives-restart' });
		await directus.restart();
		expect((await revealKey(entry.body.id)).body.key).toBe('sk-survives-restart');
		const bytes = await directus.db.everything();
		for (const secret of ['sk-survives-restart', 'sk-proj-VAULT-CANARY', 'sk-items-CANARY', passphrase]) expect(bytes).not.toContain(secret);
		expect(directus.log()).not.toContain(passphrase);
	});

	it('fails closed when both a raw key and a passphrase are set', async () => {
		await directus.restart({ CREDENTIALS_ENC_KEY_B64: newKeyB64() });
		expect(await create(userA.token, { service: 'openai', name: 'x', key: 'k' })).toMatchObject({
			status: 500,
			body: { success: false, error: 'CREDENTIALS_ENC_KEY_B64 and CREDENTIALS_MASTER_PASSPHRASE are both set: set only one' },
		});
	});
});
