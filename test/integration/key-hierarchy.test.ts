import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/crypto/index.js';
import type { Instance } from '../../tools/harness/directus.js';
import { useDirectus, type Api, type TestUser } from './fixture.js';

/**
 * The key hierarchy (issue 23) with the `local` KEK provider, in a real Directus: data keys made and
 * wrapped by the CLI, picked up by the running server, promoted once it reads them, rewrapped under
 * another KEK while reveals run, and the fail-closed start when the KEK is gone.
 */
const kek1 = randomBytes(32);
const kek2 = randomBytes(32);
const b64 = (...keys: Buffer[]) => keys.map((k) => k.toString('base64')).join(',');

const suite = useDirectus({
	users: ['owner'],
	env: { CREDENTIALS_KEK_PROVIDER: 'local', CREDENTIALS_KEK_LOCAL_B64: b64(kek1, kek2), CREDENTIALS_KEYS_POLL_SECONDS: '0.5' },
});
let directus: Instance;
let api: Api;
let owner: TestUser;
beforeAll(() => void ({ directus, api, users: [owner] } = suite));

const reveal = (id: string) => api('POST', '/credentials/reveal', { body: { creatorProfileId: id }, headers: { 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! } });
const cliJson = async (args: string[]) => {
	const out = await directus.cli(['credentials', ...args, '--json']);
	return { code: out.code, stderr: out.stderr, summary: JSON.parse(out.stdout.trim().split('\n').at(-1)!) as Record<string, any> };
};
/** The key id in a stored envelope (`cred:v2:<keyId>:…`), read from the database directly. */
async function storedKeyId(id: string) {
	const [row] = await directus.db.query<{ encrypted_credentials: string }>('select encrypted_credentials from platform_connections where id = ?', id);
	return /cred:v2:([0-9a-f]{8}):/.exec(String(row!.encrypted_credentials))?.[1];
}

/** A promotion reaches a running server at its next look (CREDENTIALS_KEYS_POLL_SECONDS): until then it writes with the previous key, which every instance reads. */
async function serverWritesWith(id: string) {
	for (let i = 0; i < 50; i++) {
		if ((await api('GET', '/credentials/status', { token: directus.adminToken })).body.keys?.current === id) return;
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`the server did not take ${id} as its current key within 5 s`);
}

const profiles: { id: string; password: string }[] = [];
async function profile() {
	const password = `pw-${randomBytes(6).toString('hex')}`;
	const res = await api('POST', '/credentials/create-profile', { token: owner.token, body: { platform: 'instagram', platform_username: randomBytes(4).toString('hex'), credentials: { password } } });
	expect(res.status, res.text).toBe(200);
	profiles.push({ id: res.body.id, password });
	return res.body.id as string;
}
async function revealsAll() {
	for (const p of profiles) expect((await reveal(p.id)).body.credentials, p.id).toEqual({ password: p.password });
}

describe('data keys wrapped by a key-encryption key', () => {
	let first: string;

	it('start from the environment’s key; `keys init` makes a wrapped key current once the server reads it', async () => {
		const before = await profile();
		const environmentKey = await storedKeyId(before);
		expect(environmentKey).toBe(keyId(Buffer.from(directus.env.CREDENTIALS_ENC_KEY_B64!, 'base64')));

		const init = await cliJson(['keys', 'init', '--kek', 'local']);
		expect(init.code, init.stderr).toBe(0);
		expect(init.summary).toMatchObject({ ok: true, state: 'current', kek: keyId(kek1), readers: 1 });
		first = init.summary['keyId'];

		// The server read it (it looks every 0.5 s) before it became current, and writes with it from its next look.
		await serverWritesWith(first);
		const after = await profile();
		expect(await storedKeyId(after)).toBe(first);
		await revealsAll();
		// The data key exists in the database only wrapped; no KEK and no data key in the clear anywhere.
		const everything = await directus.db.everything();
		for (const secret of [kek1, kek2]) {
			expect(everything).not.toContain(secret.toString('base64'));
			expect(everything).not.toContain(secret.toString('hex'));
		}
		expect(await cliJson(['keys', 'init', '--kek', 'local'])).toMatchObject({ code: 1, summary: { ok: false, error: expect.stringMatching(/wrapped already/) } });
	});

	it('status, GET /credentials/status and `keys list` show the provider and which data keys are unwrapped', async () => {
		const status = await api('GET', '/credentials/status', { token: directus.adminToken });
		expect(status.status, status.text).toBe(200);
		expect(status.body.keys.current).toBe(first);
		expect(status.body.kek).toEqual({ provider: 'local', token: null, wrapped: [{ keyId: first, kek: keyId(kek1), state: 'current', unwrapped: true }], problem: null });
		const cli = await cliJson(['status']);
		expect(cli.summary['kek']).toMatchObject({ provider: 'local', token: null, wrapped: [{ keyId: first, unwrapped: true }] });
		const list = await cliJson(['keys', 'list']);
		expect(list.code, list.stderr).toBe(0);
		expect(list.summary['keys']).toEqual([
			expect.objectContaining({ keyId: first, source: 'wrapped', kek: keyId(kek1), state: 'current', rows: 1 }),
			expect.objectContaining({ source: 'environment', kek: null, state: 'previous', rows: 1 }),
		]);
	});

	it('rewraps every data key under another KEK while reveals run, without a failed request or a changed value row', async () => {
		const rowsBefore = await directus.db.query('select id, encrypted_credentials from platform_connections order by id');
		let running = true;
		let revealed = 0;
		const traffic = (async () => {
			while (running) {
				for (const p of profiles) {
					const res = await reveal(p.id);
					expect(res.status, res.text).toBe(200);
					revealed++;
				}
			}
		})();
		const rewrap = await cliJson(['keys', 'rewrap', '--to-kek', keyId(kek2)]);
		running = false;
		await traffic;
		expect(rewrap.code, rewrap.stderr).toBe(0);
		expect(rewrap.summary).toMatchObject({ ok: true, rewrapped: [first], already: [] });
		expect(revealed).toBeGreaterThan(0);
		expect(await directus.db.query('select id, encrypted_credentials from platform_connections order by id')).toEqual(rowsBefore);
		expect(await cliJson(['keys', 'rewrap', '--to-kek', keyId(kek2)])).toMatchObject({ code: 0, summary: { rewrapped: [], already: [first] } });
	});

	it('a new data key becomes current once the server reads it; rotate moves the older values to it', async () => {
		const added = await cliJson(['keys', 'new-data-key']);
		expect(added.code, added.stderr).toBe(0);
		expect(added.summary).toMatchObject({ ok: true, state: 'current', kek: keyId(kek2), readers: 1 });
		const second = added.summary['keyId'];
		await serverWritesWith(second);
		expect(await storedKeyId(await profile())).toBe(second);
		const rotated = await cliJson(['rotate']);
		expect(rotated.code, rotated.stderr).toBe(0);
		for (const p of profiles) expect(await storedKeyId(p.id)).toBe(second);
		await revealsAll();
		const list = (await cliJson(['keys', 'list'])).summary['keys'] as { keyId: string; state: string; rows: number }[];
		expect(list.find((k) => k.keyId === second)).toMatchObject({ state: 'current', rows: profiles.length });
		expect(list.find((k) => k.keyId === first)).toMatchObject({ state: 'retired', rows: 0 });
	});

	it('a wrapped key is not deleted or changed through Directus, not even by an admin', async () => {
		const [row] = await directus.db.query<{ key_id: string }>('select key_id from credentials_keys where wrapped is not null');
		for (const [method, body] of [['DELETE', undefined], ['PATCH', { state: 'retired' }]] as const) {
			const res = await api(method, `/items/credentials_keys/${row!.key_id}`, { token: directus.adminToken, body });
			expect(res.status, res.text).toBe(400);
		}
		expect((await api('DELETE', '/collections/credentials_keys', { token: directus.adminToken })).status).toBe(400);
		expect(await directus.db.query('select key_id from credentials_keys where key_id = ?', row!.key_id)).toHaveLength(1);
	});

	it('nor through a schema apply, which Directus runs without accountability: the keys and the audit keep their columns, the readers their table', async () => {
		const token = directus.adminToken;
		const snapshot = (await api('GET', '/schema/snapshot', { token })).body.data;
		const dropped = [
			['credentials_keys', 'wrapped'],
			['credentials_audit', 'outcome'],
		];
		for (const [collection, field] of dropped) {
			const without = { ...snapshot, fields: snapshot.fields.filter((f: { collection: string; field: string }) => !(f.collection === collection && f.field === field)) };
			const diff = await api('POST', '/schema/diff', { token, body: without });
			expect(diff.status, diff.text).toBe(200);
			const apply = await api('POST', '/schema/apply', { token, body: diff.body.data });
			expect(apply.status, `${collection}.${field}: ${apply.text}`).toBe(400);
			expect((await api('GET', `/fields/${collection}/${field}`, { token })).status, `${collection}.${field}`).toBe(200);
		}
		expect((await api('DELETE', '/collections/credentials_key_readers', { token })).status).toBe(400);
		expect(await directus.db.query('select key_id from credentials_keys where wrapped is not null')).not.toEqual([]);
		await revealsAll();
	});

	it('after a restart with the first KEK gone, everything still reveals (every key is under the second)', async () => {
		await directus.restart({ CREDENTIALS_KEK_LOCAL_B64: b64(kek2) });
		await revealsAll();
	});

	it('fails closed when the KEK that wraps the keys is missing, or no provider is set: "keys unavailable", writes refused, nothing changed', async () => {
		const snapshot = async () => [await directus.db.query('select * from credentials_keys order by key_id'), await directus.db.query('select id, encrypted_credentials from platform_connections order by id')];
		const before = await snapshot();
		for (const changes of [{ CREDENTIALS_KEK_LOCAL_B64: b64(kek1) }, { CREDENTIALS_KEK_PROVIDER: undefined, CREDENTIALS_KEK_LOCAL_B64: undefined }]) {
			await directus.restart(changes);
			const res = await reveal(profiles[0]!.id);
			expect(res.status).toBe(500);
			expect(res.body).toEqual({ success: false, error: 'keys unavailable' });
			// Through Directus's own items too: the hook refuses to store a protected field it cannot seal.
			const write = await api('POST', '/items/platform_connections', { token: owner.token, body: { platform: 'instagram', encrypted_credentials: 'NEW-SECRET' } });
			expect(write.status, write.text).toBe(500);
			expect(write.body.errors[0].extensions.code).toBe('CREDENTIALS_KEYS_UNAVAILABLE');
			expect(write.text).not.toContain('NEW-SECRET');
			expect(await snapshot()).toEqual(before);
		}
		expect(directus.log()).toMatch(/wrapped data keys: .*not in CREDENTIALS_KEK_LOCAL_B64/);
		expect(directus.log()).toMatch(/wrapped, but CREDENTIALS_KEK_PROVIDER is not set/);
		for (const secret of [kek1, kek2]) expect(directus.log()).not.toContain(secret.toString('base64'));

		await directus.restart({ CREDENTIALS_KEK_PROVIDER: 'local', CREDENTIALS_KEK_LOCAL_B64: b64(kek2) });
		await revealsAll();
	});
});
