import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../tools/harness/directus.js';
import { webhookReceiver } from '../../tools/harness/webhook.js';
import { useDirectus, type Api, type TestUser } from './fixture.js';

/** The seed contracts at /credentials/*, through a real Directus with the built extension. */
// The reveal-event flow posts to a webhook on this machine: Directus's request operation refuses local addresses by default.
const suite = useDirectus({ users: ['a', 'b'], env: { IMPORT_IP_DENY_LIST: '169.254.169.254' } });
let directus: Instance;
let api: Api;
let userA: TestUser;
let userB: TestUser;

const asUser = (token: string | undefined, route: string, body: unknown) => api('POST', `/credentials/${route}`, { token, body });
const asServer = (route: string, body: unknown, secret = directus.env.RBAC_SYNC_WEBHOOK_SECRET!) =>
	api('POST', `/credentials/${route}`, { body, headers: { 'X-RBAC-SYNC-SECRET': secret } });
/** The audit of record's entries for a row that was revealed. */
const reveals = (item: string) =>
	directus.db.query<{ route: string; caller: string; user: string | null; collection: string; item: string; ip: string | null }>(
		`select route, caller, "user", collection, item, ip from credentials_audit where outcome = 'revealed' and item = ?`,
		item,
	);

const seedCredentials = { username: 'fitcreator99', password: 'MySecurePass123!', session_id: 'abc123sessionxyz' };
const netscape = ['# Netscape HTTP Cookie File', '.youtube.com\tTRUE\t/\tTRUE\t1767225600\tSID\tsid-secret', '#HttpOnly_.youtube.com\tTRUE\t/\tTRUE\t0\tHSID\thsid-secret', ''].join('\n');
const seedCookie = { name: 'sessionid', value: '123456789%3AabcXYZ%3A28', domain: '.instagram.com', path: '/', expires: 1735689600, httpOnly: true, secure: true };

async function connectionOf(token: string, platform = `p${randomBytes(3).toString('hex')}`) {
	const res = await asUser(token, 'create-profile', { platform, platform_username: 'u', credentials: { k: 'v' } });
	expect(res.status).toBe(200);
	return res.body.id as string;
}

beforeAll(() => void ({ directus, api, users: [userA, userB] } = suite));

describe('create-profile and update-profile-creds (user)', () => {
	it('creates, then updates the same connection for the same platform and username', async () => {
		const body = { platform: 'instagram', platform_username: 'fitcreator99', credentials: seedCredentials };
		const first = await asUser(userA.token, 'create-profile', body);
		expect(first.status).toBe(200);
		expect(first.body).toEqual({ success: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/), updated: false });
		const second = await asUser(userA.token, 'create-profile', { ...body, credentials: { password: 'rotated' } });
		expect(second.body).toEqual({ success: true, id: first.body.id, updated: true });
		// Another user with the same platform and username gets a connection of their own.
		const other = await asUser(userB.token, 'create-profile', body);
		expect(other.body.updated).toBe(false);
		expect(other.body.id).not.toBe(first.body.id);
		// Without a username: one connection per platform, found again (SQL `is null`, not `= null`).
		const bare = await asUser(userA.token, 'create-profile', { platform: 'instagram', credentials: seedCredentials });
		expect(bare.body).toMatchObject({ updated: false });
		expect((await asUser(userA.token, 'create-profile', { platform: 'instagram', credentials: seedCredentials })).body).toEqual({ success: true, id: bare.body.id, updated: true });
		const revealed = await asServer('reveal', { creatorProfileId: first.body.id });
		expect(revealed.body.credentials).toEqual({ password: 'rotated' });
		const row = (await directus.db.query('select credentials_version, credentials_updated_at, owner from platform_connections where id = ?', first.body.id))[0]!;
		expect(row).toMatchObject({ credentials_version: 'v1', owner: userA.id });
		expect(row.credentials_updated_at).toBeTruthy();
	});

	it('update-profile-creds replaces the credentials and optionally the username', async () => {
		const id = await connectionOf(userA.token);
		const res = await asUser(userA.token, 'update-profile-creds', {
			creator_profile_id: id,
			credentials: { username: 'fitcreator99', password: 'NewSecurePass456!', session_id: 'newSessionXYZ789' },
			platform_username: 'renamed',
		});
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ success: true, id });
		expect((await asServer('reveal', { creatorProfileId: id })).body.credentials.password).toBe('NewSecurePass456!');
		expect((await directus.db.query('select platform_username from platform_connections where id = ?', id))[0]!.platform_username).toBe('renamed');
	});

	it('answers 403 for another user’s connection, 404 for a missing one, 401 without a user', async () => {
		const id = await connectionOf(userA.token);
		expect(await asUser(userB.token, 'update-profile-creds', { creator_profile_id: id, credentials: { x: 1 } })).toMatchObject({ status: 403, body: { success: false, error: 'Forbidden' } });
		expect(await asUser(userA.token, 'update-profile-creds', { creator_profile_id: randomUUID(), credentials: { x: 1 } })).toMatchObject({ status: 404, body: { success: false } });
		expect(await asUser(undefined, 'update-profile-creds', { creator_profile_id: id, credentials: { x: 1 } })).toMatchObject({ status: 401, body: { success: false, error: 'Unauthorized' } });
		expect(await asUser(undefined, 'create-profile', { platform: 'x', credentials: {} })).toMatchObject({ status: 401, body: { success: false, error: 'Unauthorized' } });
		expect(await asUser('not-a-valid-token', 'create-profile', { platform: 'x', credentials: {} })).toMatchObject({ status: 401, body: { success: false, error: 'Unauthorized' } });
	});

	it('validates bodies with 400s that name the field', async () => {
		const cases: [unknown, string][] = [
			[{ credentials: {} }, 'platform required'],
			[{ platform: 'x' }, 'credentials object required'],
			[{ platform: 'x', credentials: [1, 2] }, 'credentials object required'],
			[{ platform: 'x', credentials: 'secret-string' }, 'credentials object required'],
			[{ platform: 'x y', credentials: {} }, 'platform must be'],
			[{ platform: 'x', platform_username: 5, credentials: {} }, 'platform_username must be a string'],
		];
		for (const [body, error] of cases) {
			const res = await asUser(userA.token, 'create-profile', body);
			expect(res.status, JSON.stringify(body)).toBe(400);
			expect(res.body.success).toBe(false);
			expect(res.body.error).toContain(error);
			expect(res.text).not.toContain('secret-string');
		}
		const bad = await asUser(userA.token, 'update-profile-creds', { creator_profile_id: 'invalid-uuid', credentials: {} });
		expect(bad).toMatchObject({ status: 400, body: { success: false, error: 'creator_profile_id must be a UUID' } });
	});
});

describe('store and reveal (server secret)', () => {
	it('stores and reveals the seed example', async () => {
		const id = await connectionOf(userA.token);
		const credentials = { api_key: 'sk-proj-abc123xyz', refresh_token: 'refresh_token_value' };
		const stored = await asServer('store', { creatorProfileId: id, credentials });
		expect(stored.status).toBe(200);
		expect(stored.body).toEqual({ success: true, creatorProfileId: id, updated: id });
		expect((await directus.db.query('select encrypted_credentials as e from platform_connections where id = ?', id))[0]!.e).toMatch(/^cred:v2:/);
		const row = (await api('GET', `/items/platform_connections/${id}`, { token: directus.adminToken })).body.data;
		expect(row).toMatchObject({ credentials_version: 'v1', encrypted_credentials: '**********' });
		expect(Math.abs(Date.now() - new Date(row.credentials_updated_at).getTime())).toBeLessThan(60_000);
		const revealed = await asServer('reveal', { creatorProfileId: id });
		expect(revealed.status).toBe(200);
		expect(revealed.body).toEqual({ success: true, creatorProfileId: id, credentials });
		// Plaintext is for the caller only: no browser or proxy keeps a copy (nor of any other answer here).
		expect(revealed.headers.get('cache-control')).toBe('no-store');
		expect((await asServer('reveal', { creatorProfileId: randomUUID() })).headers.get('cache-control')).toBe('no-store');
	});

	it('a new secret saved through /items (as the Data Studio saves) stamps credentials_updated_at and credentials_version as /store does; the mask sent back does not', async () => {
		const id = (await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: `stamp${randomBytes(3).toString('hex')}` } })).body.data.id;
		const stamps = async () => (await api('GET', `/items/platform_connections/${id}?fields=credentials_updated_at,credentials_version`, { token: userA.token })).body.data;
		expect(await stamps()).toEqual({ credentials_updated_at: null, credentials_version: null });
		const saved = await api('PATCH', `/items/platform_connections/${id}`, { token: userA.token, body: { encrypted_credentials: '{"password":"from-the-studio"}' } });
		expect(saved.status, saved.text).toBe(200);
		const first = await stamps();
		expect(first.credentials_version).toBe('v1');
		expect(Math.abs(Date.now() - new Date(first.credentials_updated_at).getTime())).toBeLessThan(60_000);
		// Saving the form again sends the mask back, and other fields: the credentials did not change.
		await new Promise((r) => setTimeout(r, 1_100));
		expect((await api('PATCH', `/items/platform_connections/${id}`, { token: userA.token, body: { encrypted_credentials: '**********', platform_username: 'renamed' } })).status).toBe(200);
		expect(await stamps()).toEqual(first);
		expect((await directus.db.query('select encrypted_credentials as e from platform_connections where id = ?', id))[0]!.e).toMatch(/^cred:v2:/);
	});

	it('round-trips unicode, nested arrays and 64 KB values deep-equal', async () => {
		const id = await connectionOf(userA.token);
		const credentials = {
			unicode: 'pässwörd 🔑 密码 مرحبا \u0000 \u2028',
			nested: [[1, [2, [3, [{ deep: [true, false, null, 1.5e-10] }]]]], []],
			big: 'x'.repeat(64 * 1024),
			empty: {},
		};
		expect((await asServer('store', { creatorProfileId: id, credentials })).status).toBe(200);
		expect((await asServer('reveal', { creatorProfileId: id })).body.credentials).toEqual(credentials);
	});

	it('writes one audit entry per reveal, never the value (and none to directus_activity)', async () => {
		const id = await connectionOf(userA.token);
		await asServer('store', { creatorProfileId: id, credentials: { token: 'AUDIT-CANARY' } });
		await asServer('reveal', { creatorProfileId: id });
		const entries = (await reveals(id));
		expect(entries).toHaveLength(1);
		expect(entries[0]).toMatchObject({ route: 'reveal', caller: 'shared-secret', user: null, collection: 'platform_connections', item: id });
		expect(entries[0]!.ip).toBeTruthy();
		expect(await directus.db.query(`select id from directus_activity where action = 'reveal'`)).toEqual([]);
		expect(JSON.stringify(await directus.db.query('select * from credentials_audit'))).not.toContain('AUDIT-CANARY');
	});

	it('answers the seed errors', async () => {
		const id = await connectionOf(userA.token);
		expect(await asServer('store', { credentials: {} })).toMatchObject({ status: 400, body: { success: false, error: 'creatorProfileId required' } });
		for (const credentials of [undefined, null, [1], 'str', 5]) {
			expect(await asServer('store', { creatorProfileId: id, credentials })).toMatchObject({ status: 400, body: { success: false, error: 'credentials object required' } });
		}
		const fresh = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'empty' } });
		expect(await asServer('reveal', { creatorProfileId: fresh.body.data.id })).toMatchObject({ status: 404, body: { success: false, error: 'No encrypted_credentials found' } });
		expect(await asServer('reveal', { creatorProfileId: randomUUID() })).toMatchObject({ status: 404, body: { error: 'No encrypted_credentials found' } });
		expect(await asServer('store', { creatorProfileId: randomUUID(), credentials: {} })).toMatchObject({ status: 404, body: { success: false } });
		expect(await asServer('reveal', { creatorProfileId: 'invalid-uuid' })).toMatchObject({ status: 400, body: { success: false, error: 'creatorProfileId must be a UUID' } });
	});

	it('opens only with the secret: no header, a wrong one, or any Directus token answer 401', async () => {
		const id = await connectionOf(userA.token);
		await asServer('store', { creatorProfileId: id, credentials: { a: 1 } });
		for (const route of ['store', 'reveal', 'reveal-download-cred', 'get-platform-session', 'encrypt', 'decrypt']) {
			const body = { creatorProfileId: id, credentials: { a: 2 } };
			expect(await api('POST', `/credentials/${route}`, { body }), route).toMatchObject({ status: 401, body: { success: false, error: 'Unauthorized' } });
			expect(await asServer(route, body, 'wrong-secret'), route).toMatchObject({ status: 401, body: { error: 'Unauthorized' } });
			expect(await asServer(route, body, directus.env.RBAC_SYNC_WEBHOOK_SECRET + 'x'), route).toMatchObject({ status: 401 });
			expect(await api('POST', `/credentials/${route}`, { token: directus.adminToken, body }), route).toMatchObject({ status: 401, body: { error: 'Unauthorized' } });
			expect(await api('POST', `/credentials/${route}`, { token: userA.token, body }), route).toMatchObject({ status: 401 });
		}
		expect((await asServer('reveal', { creatorProfileId: id })).body.credentials).toEqual({ a: 1 });
	});
});

describe('download credentials', () => {
	it('stores password and cookie credentials and reveals them exactly', async () => {
		const conn = await connectionOf(userA.token);
		const password = await asUser(userA.token, 'create-download-cred', {
			platform: 'youtube',
			creator_profile_id: conn,
			auth_type: 'password',
			username: 'me@example.com',
			credentials: { password: 'MyYouTubePassword123' },
			display_name: 'My YouTube Channel',
		});
		expect(password.status).toBe(200);
		expect(password.body).toEqual({ success: true, id: expect.any(String) });
		expect(await asServer('reveal-download-cred', { id: password.body.id })).toMatchObject({
			status: 200,
			// The stored username comes with the password: yt-dlp needs both (--username, --password).
			body: { success: true, id: password.body.id, platform: 'youtube', auth_type: 'password', username: 'me@example.com', credentials: { password: 'MyYouTubePassword123' } },
		});
		const cookies = await asUser(userA.token, 'create-download-cred', { platform: 'youtube', creator_profile_id: conn, auth_type: 'cookies', credentials: { cookies_netscape: netscape } });
		expect(cookies.status).toBe(200);
		const revealed = await asServer('reveal-download-cred', { id: cookies.body.id });
		expect(revealed.body).toEqual({ success: true, id: cookies.body.id, platform: 'youtube', auth_type: 'cookies', username: null, credentials: { cookies_netscape: netscape } });
		expect((await reveals(cookies.body.id))).toHaveLength(1);
		const row = (await directus.db.query('select owner, display_name, encrypted_credentials from download_credentials where id = ?', password.body.id))[0]!;
		expect(row).toMatchObject({ owner: userA.id, display_name: 'My YouTube Channel' });
		expect(row.encrypted_credentials).toMatch(/^cred:v2:/);
	});

	it('refuses bad credentials with a message that says what is wrong', async () => {
		const conn = await connectionOf(userA.token);
		const base = { platform: 'youtube', creator_profile_id: conn };
		const cases: [unknown, string][] = [
			[{ ...base, auth_type: 'token', credentials: { password: 'x' } }, 'auth_type must be "password" or "cookies"'],
			[{ ...base, credentials: { password: 'x' } }, 'auth_type must be'],
			[{ ...base, auth_type: 'password', credentials: {} }, 'credentials.password required'],
			[{ ...base, auth_type: 'password', credentials: { password: '' } }, 'credentials.password required'],
			[{ ...base, auth_type: 'password' }, 'credentials object required'],
			[{ ...base, auth_type: 'cookies', credentials: { cookies_netscape: 'SID=abc; HSID=def' } }, 'expected 7 tab-separated fields'],
			[{ ...base, auth_type: 'cookies', credentials: { cookies_netscape: '# only a comment' } }, 'no cookies found'],
			[{ ...base, auth_type: 'cookies', credentials: { password: 'x' } }, 'credentials.cookies_netscape required'],
			[{ platform: 'youtube', auth_type: 'password', credentials: { password: 'x' } }, 'creator_profile_id required'],
		];
		for (const [body, error] of cases) {
			const res = await asUser(userA.token, 'create-download-cred', body);
			expect(res.status, JSON.stringify(body)).toBe(400);
			expect(res.body.error).toContain(error);
			expect(res.text).not.toContain('abc; HSID');
		}
	});

	it('requires the caller’s own connection', async () => {
		const conn = await connectionOf(userA.token);
		const body = { platform: 'youtube', creator_profile_id: conn, auth_type: 'password', credentials: { password: 'x' } };
		expect(await asUser(userB.token, 'create-download-cred', body)).toMatchObject({ status: 403, body: { success: false, error: 'Forbidden' } });
		expect(await asUser(userA.token, 'create-download-cred', { ...body, creator_profile_id: randomUUID() })).toMatchObject({ status: 404 });
		expect(await asServer('reveal-download-cred', { id: randomUUID() })).toMatchObject({ status: 404, body: { success: false } });
	});
});

describe('platform sessions', () => {
	it('stores the seed example and serves the newest active session', async () => {
		const conn = await connectionOf(userA.token);
		const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36';
		const older = await asUser(userA.token, 'store-platform-session', { creator_profile_id: conn, platform: 'instagram', cookies: [{ ...seedCookie, value: 'older' }], user_agent: ua });
		expect(older.status).toBe(200);
		await new Promise((r) => setTimeout(r, 1100)); // captured_at has second precision on SQLite
		const stored = await asUser(userA.token, 'store-platform-session', {
			creator_profile_id: conn,
			platform: 'instagram',
			cookies: [seedCookie],
			user_agent: ua,
			expires_at: '2099-12-31T23:59:59.000Z',
		});
		expect(stored.body).toEqual({ success: true, id: expect.any(String), platform: 'instagram', cookie_count: 1 });
		const got = await asServer('get-platform-session', { creator_profile_id: conn, platform: 'instagram' });
		expect(got.status).toBe(200);
		expect(got.body).toEqual({
			success: true,
			id: stored.body.id,
			platform: 'instagram',
			cookies: [seedCookie],
			captured_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
			expires_at: '2099-12-31T23:59:59.000Z',
			user_agent: ua,
		});
		expect((await reveals(stored.body.id))).toHaveLength(1);

		// Revoked: never returned again; the older one is next.
		expect(await asUser(userB.token, 'revoke-platform-session', { id: stored.body.id })).toMatchObject({ status: 403, body: { error: 'Forbidden' } });
		expect(await asUser(userA.token, 'revoke-platform-session', { id: stored.body.id })).toMatchObject({ status: 200, body: { success: true, id: stored.body.id } });
		expect((await asServer('get-platform-session', { creator_profile_id: conn, platform: 'instagram' })).body.id).toBe(older.body.id);
		await asUser(userA.token, 'revoke-platform-session', { id: older.body.id });
		expect(await asServer('get-platform-session', { creator_profile_id: conn, platform: 'instagram' })).toMatchObject({ status: 404, body: { success: false } });
		expect(await asUser(userA.token, 'revoke-platform-session', { id: randomUUID() })).toMatchObject({ status: 404 });
	});

	it('skips expired sessions: the newest one that has not expired answers, with its own cookies', async () => {
		const conn = await connectionOf(userA.token);
		const live = await asUser(userA.token, 'store-platform-session', { creator_profile_id: conn, platform: 'tiktok', cookies: [{ ...seedCookie, value: 'live' }], expires_at: '2099-01-01T00:00:00Z' });
		expect(live.status).toBe(200);
		await new Promise((r) => setTimeout(r, 1100)); // captured_at has second precision on SQLite
		const expired = await asUser(userA.token, 'store-platform-session', { creator_profile_id: conn, platform: 'tiktok', cookies: [seedCookie], expires_at: '2020-01-01T00:00:00Z' });
		expect(expired.status).toBe(200);
		// More expired sessions than one page of the search past the newest (20): the live one is on its second page.
		for (let i = 0; i < 21; i++)
			expect((await asUser(userA.token, 'store-platform-session', { creator_profile_id: conn, platform: 'tiktok', cookies: [seedCookie], expires_at: '2021-01-01T00:00:00Z' })).status).toBe(200);
		const got = await asServer('get-platform-session', { creator_profile_id: conn, platform: 'tiktok' });
		expect(got.body).toMatchObject({ id: live.body.id, cookies: [{ ...seedCookie, value: 'live' }], expires_at: '2099-01-01T00:00:00.000Z' });
		expect(await reveals(live.body.id)).toHaveLength(1);
		expect(await reveals(expired.body.id)).toHaveLength(0);
		await asUser(userA.token, 'revoke-platform-session', { id: live.body.id });
		expect(await asServer('get-platform-session', { creator_profile_id: conn, platform: 'tiktok' })).toMatchObject({ status: 404 });
	});

	it('validates cookies and timestamps, and requires the caller’s connection', async () => {
		const conn = await connectionOf(userA.token);
		const base = { creator_profile_id: conn, platform: 'instagram' };
		const cases: [unknown, string][] = [
			[{ ...base }, 'cookies array required'],
			[{ ...base, cookies: [] }, 'cookies must not be empty'],
			[{ ...base, cookies: [{ value: 'v', domain: 'd' }] }, 'cookie name required'],
			[{ ...base, cookies: [{ name: 'n', value: 5, domain: 'd' }] }, 'cookie value must be a string'],
			[{ ...base, cookies: [seedCookie], expires_at: 'tomorrow' }, 'expires_at must be an ISO 8601 timestamp'],
		];
		for (const [body, error] of cases) {
			const res = await asUser(userA.token, 'store-platform-session', body);
			expect(res.status, JSON.stringify(body)).toBe(400);
			expect(res.body.error).toContain(error);
		}
		expect(await asUser(userB.token, 'store-platform-session', { ...base, cookies: [seedCookie] })).toMatchObject({ status: 403 });
	});
});

describe('encrypt and decrypt utility (server secret)', () => {
	it('round-trips any JSON value, and decrypts a protected field of a row (audited)', async () => {
		for (const data of [{ a: [1, 'ü'] }, 'text', 42, null, [true]]) {
			const enc = await asServer('encrypt', { data });
			expect(enc.status).toBe(200);
			expect(enc.body.encrypted.enc).toMatch(/^cred:v2:/);
			expect(await asServer('decrypt', { encrypted: enc.body.encrypted })).toMatchObject({ status: 200, body: { success: true, data } });
		}
		const id = await connectionOf(userA.token);
		await asServer('store', { creatorProfileId: id, credentials: { via: 'field' } });
		expect(await asServer('decrypt', { collection: 'platform_connections', id, field: 'encrypted_credentials' })).toMatchObject({ status: 200, body: { success: true, data: { via: 'field' } } });
		expect((await reveals(id)).map((e) => e.route)).toEqual(['decrypt']);
	});

	it('refuses a row’s envelope without its row, unprotected fields and missing data', async () => {
		const id = await connectionOf(userA.token);
		const envelope = (await directus.db.query('select encrypted_credentials as e from platform_connections where id = ?', id))[0]!.e as string;
		expect(await asServer('decrypt', { encrypted: { enc: envelope } })).toMatchObject({ status: 400, body: { success: false } });
		expect(await asServer('decrypt', { encrypted: envelope })).toMatchObject({ status: 400 });
		expect(await asServer('decrypt', { collection: 'platform_connections', id, field: 'platform' })).toMatchObject({ status: 400, body: { error: 'platform_connections.platform is not a protected field' } });
		expect(await asServer('decrypt', { collection: 'directus_users', id, field: 'password' })).toMatchObject({ status: 400 });
		expect(await asServer('decrypt', {})).toMatchObject({ status: 400, body: { success: false } });
		expect(await asServer('encrypt', {})).toMatchObject({ status: 400, body: { success: false, error: 'data required' } });
	});
});


describe('reveal events for flows', () => {
	it('every reveal emits credentials.reveal, which a flow hears: route, row, caller and outcome, never the value', async () => {
		const token = directus.adminToken;
		// A flow an operator would build without code: on credentials.reveal, write down what happened.
		const log = `reveal_log_${randomBytes(3).toString('hex')}`;
		const text = (field: string) => ({ field, type: 'string', meta: {}, schema: {} });
		const id = { field: 'id', type: 'uuid', meta: { special: ['uuid'] }, schema: { is_primary_key: true, length: 36, has_auto_increment: false } };
		const whole = { field: 'trigger', type: 'text', meta: {}, schema: {} };
		expect((await api('POST', '/collections', { token, body: { collection: log, meta: {}, schema: {}, fields: [id, whole, ...['route', 'item', 'caller', 'outcome', 'event'].map(text)] } })).status).toBe(200);
		const flowId = randomUUID();
		const flow = await api('POST', '/flows', {
			token,
			body: { id: flowId, name: 'reveal log', status: 'active', trigger: 'event', accountability: null, options: { type: 'action', scope: ['credentials.reveal'] } },
		});
		expect(flow.status, flow.text).toBe(200);
		const payload = { ...Object.fromEntries(['route', 'item', 'caller', 'outcome', 'event'].map((f) => [f, `{{$trigger.${f}}}`])), trigger: '{{$trigger}}' };
		const op = await api('POST', '/operations', {
			token,
			body: { flow: flowId, key: 'write', name: 'write', type: 'item-create', position_x: 19, position_y: 1, options: { collection: log, permissions: '$full', payload } },
		});
		expect(op.status, op.text).toBe(200);
		expect((await api('PATCH', `/flows/${flowId}`, { token, body: { operation: op.body.data.id } })).status).toBe(200);

		// The README's flow: a reveal that answered no value goes to the operator's webhook (here, one on this machine).
		const hook = await webhookReceiver();
		const alertId = randomUUID();
		expect(
			(await api('POST', '/flows', { token, body: { id: alertId, name: 'Reveal alert', status: 'active', trigger: 'event', accountability: null, options: { type: 'action', scope: ['credentials.reveal'] } } }))
				.status,
		).toBe(200);
		const post = await api('POST', '/operations', {
			token,
			body: { flow: alertId, key: 'post', name: 'post', type: 'request', position_x: 37, position_y: 1, options: { method: 'POST', url: hook.url, body: '{{$trigger}}' } },
		});
		expect(post.status, post.text).toBe(200);
		const when = await api('POST', '/operations', {
			token,
			body: { flow: alertId, key: 'when', name: 'when', type: 'condition', position_x: 19, position_y: 1, resolve: post.body.data.id, options: { filter: { $trigger: { outcome: { _neq: 'revealed' } } } } },
		});
		expect(when.status, when.text).toBe(200);
		expect((await api('PATCH', `/flows/${alertId}`, { token, body: { operation: when.body.data.id } })).status).toBe(200);

		const connection = await connectionOf(userA.token);
		const secret = `sk-EVENT-${randomBytes(6).toString('hex')}`;
		expect((await asServer('store', { creatorProfileId: connection, credentials: { api_key: secret } })).status).toBe(200);
		expect((await asServer('reveal', { creatorProfileId: connection })).body.credentials).toEqual({ api_key: secret });
		const missing = randomUUID();
		expect((await asServer('reveal', { creatorProfileId: missing })).status).toBe(404);
		// The utility's own envelopes belong to no row: reported with no item.
		const sealed = (await asServer('encrypt', { data: { api_key: secret } })).body.encrypted;
		expect((await asServer('decrypt', { encrypted: sealed })).body.data).toEqual({ api_key: secret });
		const entries = async () => (await api('GET', `/items/${log}?fields=route,item,caller,outcome,event&limit=-1`, { token })).body.data as Record<string, string>[];
		// Three reveals: three runs of the flow (it runs after the answer, so it is waited for).
		await expect.poll(async () => (await entries()).length, { timeout: 10_000 }).toBe(3);
		expect(await entries()).toEqual(
			expect.arrayContaining([
				{ route: 'reveal', item: connection, caller: 'server', outcome: 'revealed', event: 'credentials.reveal' },
				{ route: 'reveal', item: missing, caller: 'server', outcome: 'not-found', event: 'credentials.reveal' },
				{ route: 'decrypt', item: null, caller: 'server', outcome: 'revealed', event: 'credentials.reveal' },
			]),
		);
		// The whole of what the flow received: these members (and Directus's `event`), never the value.
		const triggers = (await api('GET', `/items/${log}?fields=trigger&limit=-1`, { token })).body.data as { trigger: string }[];
		for (const { trigger } of triggers) {
			expect(trigger).not.toContain(secret);
			expect(Object.keys(JSON.parse(trigger)).sort()).toEqual(['caller', 'collection', 'event', 'identity', 'item', 'outcome', 'route', 'user']);
		}
		// The webhook heard of the failed reveal only.
		await expect.poll(() => hook.received.length, { timeout: 10_000 }).toBe(1);
		expect(JSON.parse(hook.received[0]!)).toMatchObject({ route: 'reveal', item: missing, outcome: 'not-found', caller: 'server', user: null });
		await new Promise((r) => setTimeout(r, 500));
		expect(hook.received).toHaveLength(1);
		hook.close();
		for (const id of [flowId, alertId]) expect((await api('DELETE', `/flows/${id}`, { token })).status).toBe(204);
	});
});

describe('no audit, no reveal (group commit)', () => {
	/** A database trigger that refuses the audit entries of reveals — of one item, or of all. */
	const AUDIT_DOWN = {
		sqlite: (item: string | null) => [
			`create trigger audit_down before insert on credentials_audit when new.outcome = 'revealed' ${item ? `and new.item = '${item}'` : ''} begin select raise(abort, 'audit down'); end`,
		],
		postgres: (item: string | null) => [
			`create function audit_down() returns trigger language plpgsql as $$ begin if new.outcome = 'revealed' ${item ? `and new.item = '${item}'` : ''} then raise exception 'audit down'; end if; return new; end $$`,
			'create trigger audit_down before insert on credentials_audit for each row execute function audit_down()',
		],
		mysql: (item: string | null) => [
			`create trigger audit_down before insert on credentials_audit for each row begin if new.outcome = 'revealed' ${item ? `and new.item = '${item}'` : ''} then signal sqlstate '45000' set message_text = 'audit down'; end if; end`,
		],
	};
	const auditDown = async (item: string | null = null) => {
		for (const sql of AUDIT_DOWN[directus.db.kind](item)) await directus.db.execute(sql);
	};
	const auditUp = async () => {
		await directus.db.execute('drop trigger audit_down' + (directus.db.kind === 'postgres' ? ' on credentials_audit' : ''));
		if (directus.db.kind === 'postgres') await directus.db.execute('drop function audit_down');
	};
	const revealAnswers = { status: 503, body: { success: false, error: 'The reveal could not be written to the audit log, so nothing was revealed' } };

	it('every reveal route answers 503 without the value when its audit entry cannot be written', async () => {
		const secret = `never-${randomBytes(6).toString('hex')}`;
		const conn = await connectionOf(userA.token);
		expect((await asServer('store', { creatorProfileId: conn, credentials: { secret } })).status).toBe(200);
		const cred = await asUser(userA.token, 'create-download-cred', { platform: 'youtube', creator_profile_id: conn, auth_type: 'password', username: 'u', credentials: { password: secret } });
		expect((await asUser(userA.token, 'store-platform-session', { creator_profile_id: conn, platform: 'audit', cookies: [{ ...seedCookie, value: secret }] })).status).toBe(200);
		const key = await api('POST', '/credentials', { token: userA.token, body: { service: 'openai', name: 'audit-down', key: secret } });
		expect(key.status).toBe(201);
		const encrypted = (await asServer('encrypt', { data: secret })).body.encrypted;
		const calls = [
			() => asServer('reveal', { creatorProfileId: conn }),
			() => asServer('reveal-download-cred', { id: cred.body.id }),
			() => asServer('get-platform-session', { creator_profile_id: conn, platform: 'audit' }),
			() => api('POST', '/credentials/reveal-key', { body: { id: key.body.id }, headers: { 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! } }),
			() => asServer('decrypt', { encrypted }),
			() => asServer('decrypt', { collection: 'platform_connections', id: conn, field: 'encrypted_credentials' }),
		];
		const before = (await directus.db.query<{ n: number }>(`select count(*) as n from credentials_audit where outcome = 'revealed'`))[0]!.n;
		await auditDown();
		try {
			// One at a time and all at once (one shared INSERT): none answers with the value.
			for (const call of calls) {
				const res = await call();
				expect(res).toMatchObject(revealAnswers);
				expect(res.text).not.toContain(secret);
			}
			for (const res of await Promise.all([...calls, ...calls].map((call) => call()))) {
				expect(res).toMatchObject(revealAnswers);
				expect(res.text).not.toContain(secret);
			}
		} finally {
			await auditUp();
		}
		expect((await directus.db.query<{ n: number }>(`select count(*) as n from credentials_audit where outcome = 'revealed'`))[0]!.n).toBe(before);
		// The operator hears of it, without the statement or the value.
		expect(directus.log()).toContain('The reveal could not be written to the audit log');
		expect(directus.log()).toContain('audit down');
		expect(directus.log()).not.toContain(secret);
		for (const call of calls) expect((await call()).status).toBe(200);
	});

	it('reveals at once share one INSERT, yet each waits for its own entry; one failing entry fails only its own reveal', async () => {
		const ids = await Promise.all(Array.from({ length: 12 }, () => connectionOf(userA.token)));
		for (const [i, id] of ids.entries()) expect((await asServer('store', { creatorProfileId: id, credentials: { n: i } })).status).toBe(200);
		const [refused, ...rest] = ids as [string, ...string[]];
		await auditDown(refused);
		try {
			const answers = await Promise.all(ids.map((id) => asServer('reveal', { creatorProfileId: id })));
			expect(answers[0]).toMatchObject(revealAnswers);
			expect(answers.slice(1).map((a) => a.body.credentials)).toEqual(rest.map((_, i) => ({ n: i + 1 })));
		} finally {
			await auditUp();
		}
		expect(await reveals(refused)).toHaveLength(0);
		for (const id of rest) expect(await reveals(id)).toHaveLength(1);
	});
});

describe('every route, whatever the body', () => {
	const routes = ['create-profile', 'update-profile-creds', 'create-download-cred', 'store-platform-session', 'revoke-platform-session', 'store', 'reveal', 'reveal-download-cred', 'get-platform-session', 'encrypt', 'decrypt'];
	const server = new Set(['store', 'reveal', 'reveal-download-cred', 'get-platform-session', 'encrypt', 'decrypt']);
	const send = (route: string, init: { raw?: string; headers?: Record<string, string> }) =>
		api('POST', `/credentials/${route}`, {
			...init,
			token: server.has(route) ? undefined : userA.token,
			headers: { ...(server.has(route) ? { 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! } : {}), ...init.headers },
		});

	it('answers non-JSON, wrong content types, oversized and polluting bodies with a 4xx in the route shape', async () => {
		for (const route of routes) {
			const cases = [
				{ init: { raw: '{"platform": ', headers: { 'content-type': 'application/json' } }, status: 400 },
				{ init: { raw: 'platform=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 415 },
				{ init: { raw: 'x'.repeat(1024 * 1024 + 10), headers: { 'content-type': 'application/json' } }, status: 413 },
				{ init: { raw: '{"__proto__": {"admin": true}, "platform": "x"}', headers: { 'content-type': 'application/json' } }, status: 400 },
				{ init: { raw: '{"credentials": {"constructor": {"prototype": {}}}}', headers: { 'content-type': 'application/json' } }, status: 400 },
				{ init: { raw: '[1,2,3]', headers: { 'content-type': 'application/json' } }, status: 400 },
				{ init: { raw: '"just a string"', headers: { 'content-type': 'application/json' } }, status: 400 },
			];
			for (const { init, status } of cases) {
				const res = await send(route, init);
				expect(res.status, `${route} ${init.raw.slice(0, 30)}`).toBe(status);
				expect(res.body).toEqual({ success: false, error: expect.any(String) });
				expect(res.text).not.toMatch(/at .*\.js:\d+/);
			}
		}
		expect(await (await fetch(`${directus.url}/server/ping`)).text()).toBe('pong');
	});

	it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
		const res = await api('GET', '/credentials/openapi.json');
		expect(res.status).toBe(200);
		expect(res.body.openapi).toBe('3.1.0');
		for (const route of routes) expect(Object.keys(res.body.paths)).toContain(`/credentials/${route}`);
		const store = res.body.paths['/credentials/store'].post;
		expect(store.security).toEqual([{ machineIdentity: ['store'] }, { serverSecret: [] }]);
		expect(Object.keys(res.body.components.securitySchemes).sort()).toEqual(['directusToken', 'machineIdentity', 'serverSecret']);
		expect(res.body.paths['/credentials/identities'].post.security).toEqual([{ directusToken: [] }]);
		expect(res.body.paths['/credentials/identities'].post.responses['201'].content['application/json'].schema.required).toContain('token');
		expect(store.requestBody.content['application/json'].schema.required).toEqual(['creatorProfileId', 'credentials']);
		expect(res.body.paths['/credentials/create-profile'].post.security).toEqual([{ directusToken: [] }]);
	});

	it('answers unknown routes with 404 in the same shape', async () => {
		expect(await api('POST', '/credentials/nope', { body: {} })).toMatchObject({ status: 404, body: { success: false, error: 'Not found' } });
	});
});

describe('server secret unset', () => {
	it('answers 500 "RBAC_SYNC_WEBHOOK_SECRET not set" on server routes, user routes still work', async () => {
		await directus.restart({ RBAC_SYNC_WEBHOOK_SECRET: undefined });
		const res = await api('POST', '/credentials/reveal', { body: { creatorProfileId: randomUUID() }, headers: { 'X-RBAC-SYNC-SECRET': 'anything' } });
		expect(res).toMatchObject({ status: 500, body: { success: false, error: 'RBAC_SYNC_WEBHOOK_SECRET not set' } });
		expect((await asUser(userA.token, 'create-profile', { platform: 'still', credentials: { a: 1 } })).status).toBe(200);
	});
});

describe('the server secret never reaches a log', () => {
	for (const style of ['raw', 'pretty']) {
		it(`in the ${style} log style, request logs included`, async () => {
			const secret = `srv-${randomUUID()}`;
			const wrong = `typo-${randomUUID()}`;
			await directus.restart({ LOG_STYLE: style, LOG_LEVEL: 'info', RBAC_SYNC_WEBHOOK_SECRET: secret });
			const reveal = await api('POST', '/credentials/reveal', { body: { creatorProfileId: randomUUID() }, headers: { 'X-RBAC-SYNC-SECRET': secret } });
			expect(reveal.status).toBe(404);
			expect((await api('POST', '/credentials/reveal', { body: { creatorProfileId: randomUUID() }, headers: { 'X-RBAC-SYNC-SECRET': wrong } })).status).toBe(401);
			// Sent where it means nothing, it is still not written down.
			expect((await api('GET', '/server/ping', { headers: { 'X-RBAC-SYNC-SECRET': secret } })).status).toBe(200);
			await new Promise((r) => setTimeout(r, 500));
			const log = directus.log();
			expect(log).toContain('/credentials/reveal');
			expect(log).not.toContain(secret);
			expect(log).not.toContain(wrong);
		});
	}
});
