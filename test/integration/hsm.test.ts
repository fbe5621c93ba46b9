import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createCredentialsUser } from '../../tools/harness/api.js';
import { startDirectus, type Instance } from '../../tools/harness/directus.js';
import { softHsmToken, type SoftHsmToken } from '../../tools/harness/softhsm.js';

/**
 * The key hierarchy with its KEK in a PKCS#11 token (issue 23), SoftHSM2 standing in for an HSM: KEKs
 * made inside the token and never exported, every route storing and revealing under a wrapped data
 * key, KEK rotation while traffic runs, the old KEK deleted, and the fail-closed starts (wrong PIN,
 * token gone) that change nothing in the database.
 */
const dir = mkdtempSync(join(tmpdir(), 'creds-hsm-'));
let token: SoftHsmToken;
let directus: Instance;
let api: ReturnType<typeof client>;
let owner: Awaited<ReturnType<typeof createCredentialsUser>>;
const pinFile = join(dir, 'pin');

beforeAll(async () => {
	token = softHsmToken(dir);
	writeFileSync(pinFile, `${token.pin}\n`, { mode: 0o600 });
	directus = await startDirectus({
		env: {
			...token.env,
			CREDENTIALS_KEK_PROVIDER: 'pkcs11',
			CREDENTIALS_PKCS11_MODULE: token.module,
			CREDENTIALS_PKCS11_TOKEN_LABEL: token.label,
			CREDENTIALS_PKCS11_KEK_LABEL: 'kek-1',
			CREDENTIALS_PKCS11_PIN_FILE: pinFile,
			CREDENTIALS_KEYS_POLL_SECONDS: '0.5',
			// The HSM setup as it is meant: no data key in the environment at all, only wrapped ones.
			CREDENTIALS_ENC_KEY_B64: undefined,
		},
	});
	api = client(directus);
	owner = await createCredentialsUser(directus, 'owner');
}, 600_000);
afterAll(async () => {
	await directus?.stop();
	rmSync(dir, { recursive: true, force: true });
});

const secret = () => ({ 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! });
const asServer = (route: string, body: unknown) => api('POST', `/credentials/${route}`, { body, headers: secret() });
const asOwner = (route: string, body: unknown) => api('POST', `/credentials/${route}`, { token: owner.token, body });
const cliJson = async (args: string[]) => {
	const out = await directus.cli(['credentials', ...args, '--json']);
	return { code: out.code, stderr: out.stderr, summary: JSON.parse(out.stdout.trim().split('\n').at(-1)!) as Record<string, any> };
};
const ok = <T extends { status: number; text: string }>(res: T, status = 200) => {
	expect(res.status, res.text).toBe(status);
	return res;
};

/** Every value stored through a route, and the request that reveals it again with what it must answer. */
const reveals: { route: string; body: unknown; expected: Record<string, unknown> }[] = [];
async function storeThroughEveryRoute(tag: string) {
	const connection = ok(await asOwner('create-profile', { platform: 'instagram', platform_username: `u${tag}`, credentials: { password: `ig-${tag}` } })).body.id as string;
	reveals.push({ route: 'reveal', body: { creatorProfileId: connection }, expected: { credentials: { password: `ig-${tag}` } } });
	const other = ok(await asOwner('create-profile', { platform: 'tiktok', platform_username: `t${tag}`, credentials: {} })).body.id as string;
	ok(await asServer('store', { creatorProfileId: other, credentials: { token: `tt-${tag}` } }));
	reveals.push({ route: 'reveal', body: { creatorProfileId: other }, expected: { credentials: { token: `tt-${tag}` } } });
	const download = ok(await asOwner('create-download-cred', { platform: 'youtube', creator_profile_id: connection, auth_type: 'password', username: 'me', credentials: { password: `yt-${tag}` } })).body.id;
	reveals.push({ route: 'reveal-download-cred', body: { id: download }, expected: { credentials: { password: `yt-${tag}` } } });
	const cookie = { name: 'sessionid', value: `sess-${tag}`, domain: '.instagram.com', path: '/', expires: 4102444800, httpOnly: true, secure: true };
	ok(await asOwner('store-platform-session', { creator_profile_id: connection, platform: 'instagram', cookies: [cookie], expires_at: '2099-01-01T00:00:00Z' }));
	reveals.push({ route: 'get-platform-session', body: { creator_profile_id: connection, platform: 'instagram' }, expected: { cookies: [cookie] } });
	const vault = ok(await api('POST', '/credentials', { token: owner.token, body: { service: 'openai', name: `k${tag}`, key: `sk-${tag}` } }), 201).body.id;
	reveals.push({ route: 'reveal-key', body: { id: vault }, expected: { key: `sk-${tag}` } });
	const encrypted = ok(await asServer('encrypt', { data: { note: `enc-${tag}` } })).body.encrypted;
	reveals.push({ route: 'decrypt', body: { encrypted }, expected: { data: { note: `enc-${tag}` } } });
}
async function revealEverything() {
	for (const r of reveals) {
		const res = await asServer(r.route, r.body);
		expect(res.status, `${r.route} ${res.text}`).toBe(200);
		expect(res.body, r.route).toMatchObject(r.expected);
	}
}
const snapshot = async () => [
	await directus.db.query('select * from credentials_keys order by key_id'),
	await directus.db.query('select id, encrypted_credentials from platform_connections order by id'),
	await directus.db.query('select id, encrypted_key from api_credentials order by id'),
];

describe('a KEK in a PKCS#11 token (SoftHSM2)', () => {
	let dataKey: string;

	it('the KEK is made inside the token, non-extractable; `keys init` wraps the first data key with it', async () => {
		const made = await cliJson(['keys', 'create-kek', '--label', 'kek-1']);
		expect(made.code, made.stderr).toBe(0);
		expect(token.keyLabels()).toEqual(['kek-1']);
		const again = await cliJson(['keys', 'create-kek', '--label', 'kek-1']);
		expect(again.code).toBe(1);
		expect(again.summary).toEqual({ ok: false, error: 'a key labelled "kek-1" is already on token "creds"' });

		// Before the first data key there is nothing to write with: protected writes are refused.
		expect((await asOwner('create-profile', { platform: 'instagram', platform_username: 'early', credentials: { password: 'early' } })).status).toBe(500);
		const init = await cliJson(['keys', 'init', '--kek', 'pkcs11']);
		expect(init.code, init.stderr).toBe(0);
		expect(init.summary).toMatchObject({ ok: true, state: 'current', kek: 'kek-1', readers: 1 });
		dataKey = init.summary.keyId;
		const [row] = await directus.db.query<{ wrapped: string; kek: string; state: string }>('select wrapped, kek, state from credentials_keys where key_id = ?', dataKey);
		expect(row).toMatchObject({ kek: 'kek-1', state: 'current' });
		expect(row!.wrapped).toMatch(/^kwp1:[A-Za-z0-9_-]{54}$/);
		for (let i = 0; i < 50 && (await api('GET', '/credentials/status', { token: directus.adminToken })).body.keys?.current !== dataKey; i++) await new Promise((r) => setTimeout(r, 100));
	});

	it('stores and reveals through every route under the wrapped data key', async () => {
		await storeThroughEveryRoute('a');
		await revealEverything();
		const [row] = await directus.db.query<{ encrypted_credentials: string }>('select encrypted_credentials from platform_connections where platform_username = ?', 'ua');
		expect(row!.encrypted_credentials).toContain(`cred:v2:${dataKey}:`);
		const status = await api('GET', '/credentials/status', { token: directus.adminToken });
		expect(status.body.kek).toEqual({ provider: 'pkcs11', token: 'creds', wrapped: [{ keyId: dataKey, kek: 'kek-1', state: 'current', unwrapped: true }], problem: null });
		// The PIN is in no log line and no answer.
		expect(directus.log()).not.toContain(token.pin);
	});

	it('rewraps every data key under a second KEK while traffic runs, with no failed request', async () => {
		expect((await cliJson(['keys', 'create-kek', '--label', 'kek-2'])).code).toBe(0);
		expect(reveals.length).toBeGreaterThan(0); // an empty list would make the loop below spin without yielding
		let running = true;
		let served = 0;
		const traffic = (async () => {
			while (running) {
				await revealEverything();
				served++;
			}
		})();
		const rewrap = await cliJson(['keys', 'rewrap', '--to-kek', 'kek-2']);
		running = false;
		await traffic;
		expect(rewrap.code, rewrap.stderr).toBe(0);
		expect(rewrap.summary).toMatchObject({ ok: true, rewrapped: [dataKey] });
		expect(served).toBeGreaterThan(0);
	});

	it('after a restart with the first KEK deleted from the token, reveals everything', async () => {
		token.deleteKey('kek-1');
		expect(token.keyLabels()).toEqual(['kek-2']);
		await directus.restart({ CREDENTIALS_PKCS11_KEK_LABEL: 'kek-2' });
		await revealEverything();
		await storeThroughEveryRoute('b');
		await revealEverything();
	});

	it('fails closed with a wrong PIN, and after a restart with the token gone (until then the server keeps what it unwrapped): "keys unavailable", writes refused, nothing changed; the token plugged back in, it serves again', async () => {
		const before = await snapshot();
		const wrongPin = join(dir, 'wrong-pin');
		writeFileSync(wrongPin, '000000\n');
		await directus.restart({ CREDENTIALS_PKCS11_PIN_FILE: wrongPin });
		await expectClosed(/PIN for token \\?"creds\\?" was refused/);
		expect(await snapshot()).toEqual(before);

		await directus.restart({ CREDENTIALS_PKCS11_PIN_FILE: pinFile });
		await revealEverything();

		// The token taken away from a running server: the keys it unwrapped at start stay in its memory until it restarts.
		token.remove();
		await revealEverything();
		await directus.restart();
		await expectClosed(/no token labelled \\?"creds\\?" is present/);
		expect(await snapshot()).toEqual(before);
		expect(directus.log()).not.toContain(token.pin);

		// The token plugged back in: the server, still looking for its keys, serves again without a restart.
		token.restore();
		for (let i = 0; i < 50 && (await asServer(reveals[0]!.route, reveals[0]!.body)).status !== 200; i++) await new Promise((r) => setTimeout(r, 200));
		await revealEverything();
	});
});

async function expectClosed(logged: RegExp) {
	for (const r of reveals) {
		const res = await asServer(r.route, r.body);
		expect(res.status, r.route).toBe(500);
		expect(res.body, r.route).toEqual({ success: false, error: 'keys unavailable' });
	}
	const write = await api('POST', '/items/platform_connections', { token: owner.token, body: { platform: 'instagram', encrypted_credentials: 'NEW-SECRET' } });
	expect(write.status, write.text).toBe(500);
	expect(write.body.errors[0].extensions.code).toBe('CREDENTIALS_KEYS_UNAVAILABLE');
	expect(directus.log()).toMatch(logged);
	const status = await cliJson(['keys', 'list']);
	expect(status.code).toBe(1);
	expect(status.summary).toMatchObject({ ok: false, provider: 'pkcs11' });
}
