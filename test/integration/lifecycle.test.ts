import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyId, makeKeyring, openStored } from '../../src/crypto/index.js';
import type { FieldHealth } from '../../src/contracts/studio.js';
import { collidingKeyPair, legacyEncrypt } from '../unit/helpers.js';
import { newKeyB64, type Instance } from '../../tools/harness/directus.js';
import { useDirectus, type Api } from './fixture.js';

/**
 * Key lifecycle end to end: 5,000 rows under key A plus legacy and plaintext rows; switch to B;
 * status, a killed rotate, a rotate under live traffic, encrypt-existing, retire A, verify, and
 * a wrong key at start.
 */
const suite = useDirectus();
let directus: Instance;
let api: Api;
let keyA: string;
const keyB = newKeyB64();
const kid = (b64: string) => keyId(Buffer.from(b64, 'base64'));
/** What every row must reveal to at the end: platform_connections / creator_profiles / vendor_secrets id → value. */
const expected = new Map<string, { collection: string; field: string; value: unknown }>();
const BULK = 5000;

const json = (out: { stdout: string }) => JSON.parse(out.stdout.trim().split('\n').pop()!);
const statusOf = async () => {
	const out = await directus.cli(['credentials', 'status', '--json']);
	expect(out.code).toBe(0);
	return Object.fromEntries((json(out).fields as FieldHealth[]).map((f) => [f.field, f]));
};
const serverReveal = (id: string) => api('POST', '/credentials/reveal', { body: { creatorProfileId: id }, headers: { 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! } });
const serverStore = (id: string, credentials: unknown) =>
	api('POST', '/credentials/store', { body: { creatorProfileId: id, credentials }, headers: { 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! } });
const rowsUnder = async (id: string) => Number((await directus.db.query(`select count(*) as n from platform_connections where encrypted_credentials like ?`, `cred:v2:${id}:%`))[0]!.n);

beforeAll(async () => {
	({ directus, api } = suite);
	keyA = directus.env.CREDENTIALS_ENC_KEY_B64!;
	const admin = directus.adminToken;

	// 5,000 rows under key A, through REST.
	for (let start = 0; start < BULK; start += 500) {
		const rows = Array.from({ length: 500 }, (_, i) => ({ platform: 'bulk', platform_username: `row-${start + i}`, encrypted_credentials: { secret: `orig-${start + i}` } }));
		const res = await api('POST', '/items/platform_connections?fields=id,platform_username', { token: admin, body: rows });
		expect(res.status).toBe(200);
		for (const r of res.body.data) expected.set(r.id, { collection: 'platform_connections', field: 'encrypted_credentials', value: { secret: `orig-${r.platform_username.slice(4)}` } });
	}
	// Legacy rows written by the seed service (no key id, no context), straight into the database.
	const raw = Buffer.from(keyA, 'base64');
	for (let i = 0; i < 100; i++) {
		const id = randomUUID();
		await directus.db.execute(`insert into platform_connections (id, platform, platform_username, encrypted_credentials) values (?, 'legacy', ?, ?)`, id, `legacy-${i}`, legacyEncrypt(raw, { legacy: i }));
		expected.set(id, { collection: 'platform_connections', field: 'encrypted_credentials', value: { legacy: i } });
		const pid = randomUUID();
		await directus.db.execute(`insert into creator_profiles (id, platform, username, credentials, scrape_status) values (?, 'legacy', ?, ?, 'idle')`, pid, `lobj-${i}`, JSON.stringify({ enc: `v1:${legacyEncrypt(raw, { sessionToken: `obj-${i}` })}` }));
		expected.set(pid, { collection: 'creator_profiles', field: 'credentials', value: { sessionToken: `obj-${i}` } });
	}
	// A user collection whose field held plaintext before it was protected.
	const created = await api('POST', '/collections', {
		token: admin,
		body: {
			collection: 'vendor_secrets',
			schema: {},
			meta: {},
			fields: [
				{ field: 'id', type: 'uuid', meta: { special: ['uuid'], hidden: true }, schema: { is_primary_key: true, length: 36, has_auto_increment: false } },
				{ field: 'token', type: 'text', meta: {}, schema: {} },
			],
		},
	});
	expect(created.status).toBe(200);
	const plain = await api('POST', '/items/vendor_secrets', { token: admin, body: Array.from({ length: 300 }, (_, i) => ({ token: `plain-token-${i}` })) });
	for (const r of plain.body.data) expected.set(r.id, { collection: 'vendor_secrets', field: 'token', value: r.token });

	// Switch: B is current, A is previous, and vendor_secrets.token is now protected.
	await directus.restart({ CREDENTIALS_ENC_KEY_B64: keyB, CREDENTIALS_ENC_PREVIOUS_KEYS_B64: keyA, CREDENTIALS_ENCRYPTED_FIELDS: 'vendor_secrets.token' });
}, 600_000);

describe('key lifecycle', () => {
	it('status shows the split between A, legacy and plaintext', async () => {
		const status = await statusOf();
		// Counted in SQL, no decryption: whether values open is verify's to say, and none has run yet.
		expect(status['platform_connections.encrypted_credentials']).toMatchObject({ rows: BULK + 100, byKeyId: { [kid(keyA)]: BULK }, legacy: 100, plaintext: 0, undecryptable: null, verifiedAt: null });
		expect(status['creator_profiles.credentials']).toMatchObject({ rows: 100, legacy: 100, undecryptable: null });
		expect(status['vendor_secrets.token']).toMatchObject({ rows: 300, plaintext: 300 });
		const dry = await directus.cli(['credentials', 'rotate', '--dry-run', '--json']);
		expect(json(dry)).toMatchObject({ ok: true, dryRun: true, rewritten: BULK + 200 });
		expect(await rowsUnder(kid(keyB))).toBe(0);
	});

	it('a reveal of a row under the previous key works, and its next write moves it to the current key', async () => {
		const [id, row] = [...expected].find(([, v]) => v.collection === 'platform_connections')!;
		expect((await serverReveal(id)).body.credentials).toEqual(row.value);
		const patched = await api('PATCH', `/items/platform_connections/${id}`, { token: directus.adminToken, body: { platform_username: 'touched' } });
		expect(patched.status).toBe(200);
		expect((await directus.db.query('select encrypted_credentials as e from platform_connections where id = ?', id))[0]!.e).toMatch(new RegExp(`^cred:v2:${kid(keyB)}:`));
		expect((await serverReveal(id)).body.credentials).toEqual(row.value);
	});

	it('a rotate killed with SIGKILL loses nothing, and running it again under live traffic finishes the job', async () => {
		const killed = directus.spawnCli(['credentials', 'rotate', '--batch-size', '25']);
		const exited = new Promise((r) => killed.once('exit', r));
		const deadline = Date.now() + 60_000;
		while ((await rowsUnder(kid(keyB))) < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
		killed.kill('SIGKILL');
		await exited;
		const midway = await rowsUnder(kid(keyB));
		expect(midway).toBeGreaterThanOrEqual(500);
		expect(midway).toBeLessThan(BULK + 100);

		// Live traffic while the second rotate runs: stores and reveals on 40 rows, none may fail or be lost.
		const live = [...expected].filter(([, v]) => v.collection === 'platform_connections').slice(100, 140).map(([id]) => id);
		const last = new Map<string, unknown>();
		const failures: string[] = [];
		let running = true;
		let requests = 0;
		const traffic = (async () => {
			for (let round = 0; running || round < 2; round++) {
				for (const id of live) {
					const value = { secret: `live-${round}-${randomBytes(3).toString('hex')}` };
					const stored = await serverStore(id, value);
					if (stored.status !== 200) failures.push(`store ${stored.status} ${stored.text}`);
					else last.set(id, value);
					const revealed = await serverReveal(id);
					if (revealed.status !== 200) failures.push(`reveal ${revealed.status} ${revealed.text}`);
					else if (JSON.stringify(revealed.body.credentials) !== JSON.stringify(last.get(id))) failures.push(`stale reveal for ${id}`);
					requests += 2;
				}
			}
		})();
		const rotate = await directus.cli(['credentials', 'rotate', '--json', '--batch-size', '1000']);
		running = false;
		await traffic;
		expect(rotate.code, rotate.stderr).toBe(0);
		expect(json(rotate)).toMatchObject({ ok: true, failures: [] });
		expect(requests).toBeGreaterThan(80);
		expect(failures).toEqual([]);
		for (const [id, value] of last) {
			expected.set(id, { collection: 'platform_connections', field: 'encrypted_credentials', value });
			expect((await serverReveal(id)).body.credentials).toEqual(value);
		}
	});

	it('encrypt-existing seals the plaintext rows; status then shows everything under B', async () => {
		const dry = await directus.cli(['credentials', 'encrypt-existing', '--dry-run', '--json']);
		expect(json(dry)).toMatchObject({ rewritten: 300 });
		expect((await directus.db.query(`select count(*) as n from vendor_secrets where token like 'plain-token-%'`))[0]!.n).toBe(300);
		// Two runs at once: compare-and-swap lets each row be sealed exactly once, whoever gets there first.
		const [one, two] = await Promise.all([directus.cli(['credentials', 'encrypt-existing', '--json', '--batch-size', '20']), directus.cli(['credentials', 'encrypt-existing', '--json', '--batch-size', '20'])]);
		expect([one.code, two.code]).toEqual([0, 0]);
		expect(json(one).rewritten + json(two).rewritten).toBe(300);
		expect((await directus.cli(['credentials', 'verify', '--json'])).code).toBe(0);
		const status = await statusOf();
		for (const field of ['platform_connections.encrypted_credentials', 'creator_profiles.credentials', 'vendor_secrets.token']) {
			const f = status[field]!;
			expect(Object.keys(f.byKeyId), field).toEqual([kid(keyB)]);
			expect(f.byKeyId[kid(keyB)], field).toBe(f.rows - f.empty);
			expect(f).toMatchObject({ legacy: 0, plaintext: 0, undecryptable: 0 });
		}
		// Running again finds nothing to do.
		expect(json(await directus.cli(['credentials', 'rotate', '--json']))).toMatchObject({ rewritten: 0 });
	});

	it('with A removed, every row reveals to its original value and verify is clean', async () => {
		await directus.restart({ CREDENTIALS_ENC_PREVIOUS_KEYS_B64: undefined });
		const ring = makeKeyring(Buffer.from(keyB, 'base64'));
		const mismatches: string[] = [];
		for (const collection of ['platform_connections', 'creator_profiles', 'vendor_secrets']) {
			const field = collection === 'platform_connections' ? 'encrypted_credentials' : collection === 'creator_profiles' ? 'credentials' : 'token';
			for (const row of await directus.db.query<{ id: string; v: string }>(`select id, ${field} as v from ${collection}`)) {
				const want = expected.get(row.id);
				if (!want) continue;
				const got = openStored(ring, row.v, { collection, field, pk: row.id });
				if (JSON.stringify(got) !== JSON.stringify(want.value)) mismatches.push(`${collection} ${row.id}`);
			}
		}
		expect(mismatches).toEqual([]);
		expect(expected.size).toBe(BULK + 500);
		for (const [id, want] of [...expected].filter(([, v]) => v.collection === 'platform_connections').slice(0, 50)) {
			expect((await serverReveal(id)).body.credentials).toEqual(want.value);
		}
		const verify = await directus.cli(['credentials', 'verify', '--json']);
		expect(verify.code).toBe(0);
		expect(json(verify)).toMatchObject({ ok: true, failures: [] });
		expect(json(verify).checked).toBeGreaterThanOrEqual(BULK + 500);
	});

	it('a wrong key at start gives a clear error, changes no row, and fails closed for those rows', async () => {
		const snapshot = async () => JSON.stringify(await directus.db.query('select id, encrypted_credentials from platform_connections order by id'));
		const before = await snapshot();
		await directus.restart({ CREDENTIALS_ENC_KEY_B64: newKeyB64() });
		const deadline = Date.now() + 30_000;
		while (!directus.log().includes(`key id ${kid(keyB)}, which is not configured`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
		expect(directus.log()).toContain(`rows are encrypted under key id ${kid(keyB)}, which is not configured (platform_connections.encrypted_credentials: ${BULK + 100}`);
		const [id] = [...expected].find(([, v]) => v.collection === 'platform_connections')!;
		const reveal = await serverReveal(id);
		expect(reveal.status).toBe(500);
		expect(reveal.body.error).toContain(`key ${kid(keyB)}, which is not configured`);
		const overwrite = await serverStore(id, { replaced: true });
		expect(overwrite.status).toBe(409);
		expect(overwrite.body.error).toContain(kid(keyB));
		const verify = await directus.cli(['credentials', 'verify', '--json']);
		expect(verify.code).toBe(1);
		const rotate = await directus.cli(['credentials', 'rotate', '--json']);
		expect(rotate.code).toBe(1);
		expect(json(rotate).rewritten).toBe(0);
		expect(await snapshot()).toBe(before);
		expect(directus.log()).not.toContain(keyB);
	});

	it('two different keys with one key id fail closed, naming the id, never the keys', async () => {
		const [first, second] = collidingKeyPair().map((raw) => raw.toString('base64')) as [string, string];
		const status = await directus.cli(['credentials', 'status', '--json'], { CREDENTIALS_ENC_PREVIOUS_KEYS_B64: `${first},${second}` });
		expect(status.code).not.toBe(0);
		const output = status.stdout + status.stderr;
		expect(output).toContain(`same key id ${kid(first)}`);
		expect(output).toContain('CREDENTIALS_ENC_PREVIOUS_KEYS_B64');
		for (const key of [first, second]) expect(output).not.toContain(key);
	});
});
