import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ROUTES } from '../../src/endpoint/routes/index.js';
import { MASK } from '../../src/hook/handlers/mask-on-read.js';
import { legacyEncrypt } from '../unit/helpers.js';
import type { Instance } from '../../tools/harness/directus.js';
import { useDirectus, type Api, type TestUser as User } from './fixture.js';

/**
 * Hostile input: property-based fuzzing of every route's body, an authorisation matrix, tampered
 * envelopes, a leak scan for canaries across every store, and 200 parallel mixed requests.
 */
const suite = useDirectus({ env: { LOG_LEVEL: 'trace' }, users: ['a', 'b', 'c'] });
let directus: Instance;
let api: Api;
let A: User;
let B: User;
let C: User;
const counts = { fuzz: 0, matrix: 0, leak: 0 };
const secret = () => ({ 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! });
const asServer = (route: string, body: unknown) => api('POST', `/credentials/${route}`, { body, headers: secret() });
const asUser = (u: User, route: string, body: unknown) => api('POST', `/credentials/${route}`, { token: u.token, body });

async function connectionOf(u: User) {
	return (await asUser(u, 'create-profile', { platform: `p${randomBytes(4).toString('hex')}`, credentials: { k: 1 } })).body.id as string;
}

beforeAll(() => void ({ directus, api, users: [A, B, C] } = suite));
afterAll(() => console.log(`hostile suite: ${counts.fuzz} fuzz cases, ${counts.matrix} matrix cells, ${counts.leak} leak scans`));

describe('fuzzing every route body', () => {
	const hostileString = fc.oneof(
		fc.string({ maxLength: 40 }),
		fc.constantFrom('', ' ', 'not-a-uuid', '00000000-0000-0000-0000-00000000000g', '../../etc/passwd', "'; drop table x; --", '\u0000', '🔑'.repeat(20), 'x'.repeat(70_000)),
		fc.uuid(),
	);
	const deep = fc.letrec((tie) => ({ node: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), tie('node'), { maxKeys: 3 })) })).node;
	const value = fc.oneof(hostileString, fc.jsonValue(), deep, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 4 }));
	const keysOf = (schema?: z.ZodType): string[] => {
		const shape = (schema as { shape?: Record<string, unknown>; def?: { in?: { shape?: object }; options?: { shape?: object }[] } } | undefined);
		const inner = shape?.shape ?? shape?.def?.in?.shape ?? shape?.def?.options?.flatMap((o) => Object.keys(o.shape ?? {})).reduce((acc, k) => ({ ...acc, [k]: 1 }), {});
		return Object.keys(inner ?? {});
	};
	/** Raw JSON texts: random values, the route's own keys with hostile values, and pollution attempts. */
	const bodyFor = (keys: string[]) => {
		const record = fc.record(Object.fromEntries(keys.map((k) => [k, value])), { requiredKeys: [] });
		const text = (v: unknown) => JSON.stringify(v) ?? 'null';
		return fc.oneof(
			fc.jsonValue().map(text),
			record.map(text),
			record.map((o) => text(o).replace(/^\{/, '{"__proto__":{"polluted":true}' + (Object.keys(o).length ? ',' : ''))),
			record.map((o) => text({ ...o, constructor: { prototype: { x: 1 } } })),
		);
	};
	const posts = ROUTES.filter((r) => r.method === 'post');

	it.each(posts.map((r) => [r.path, r] as const))('POST %s: invalid bodies get a 4xx {success:false,error}, valid ones never a 5xx', async (_path, route) => {
		const headers = route.auth === 'server' ? secret() : {};
		const token = route.auth === 'user' ? A.token : undefined;
		await fc.assert(
			fc.asyncProperty(bodyFor(keysOf(route.input?.schema)), async (raw) => {
				counts.fuzz++;
				const res = await api('POST', `/credentials${route.path === '/' ? '' : route.path}`, { token, raw, headers: { ...headers, 'content-type': 'application/json' } });
				expect(res.status).toBeLessThan(500);
				const accepted = !raw.includes('"__proto__"') && !raw.includes('"constructor"') && route.input?.schema.safeParse(JSON.parse(raw)).success;
				if (!accepted) {
					expect(res.status).toBeGreaterThanOrEqual(400);
				}
				if (res.status >= 400) {
					expect(res.body).toEqual({ success: false, error: expect.any(String) });
					expect(res.text).not.toMatch(/\n\s+at /);
				}
			}),
			{ numRuns: 160, seed: 20261123 },
		);
	});

	it('non-JSON, mislabelled and oversized bodies', async () => {
		const raws = fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('{', '{"a":', 'nul', '[1,2', '{"a":1}}', '\u0000\u0001'));
		await fc.assert(
			fc.asyncProperty(raws, fc.constantFrom(...posts.map((r) => r.path)), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), async (raw, path, type) => {
				counts.fuzz++;
				const res = await api('POST', `/credentials${path === '/' ? '' : path}`, { token: A.token, headers: { ...secret(), 'content-type': type }, raw });
				expect(res.status).toBeGreaterThanOrEqual(400);
				expect(res.status).toBeLessThan(500);
				expect(res.body).toEqual({ success: false, error: expect.any(String) });
			}),
			{ numRuns: 150, seed: 7 },
		);
		const big = await api('POST', '/credentials/store', { headers: { ...secret(), 'content-type': 'application/json' }, raw: JSON.stringify({ creatorProfileId: randomUUID(), credentials: { x: 'y'.repeat(1_100_000) } }) });
		expect(big).toMatchObject({ status: 413, body: { success: false } });
		counts.fuzz++;
		expect(await (await fetch(`${directus.url}/server/ping`)).text()).toBe('pong');
	});
});

describe('authorisation matrix', () => {
	type Caller = 'anonymous' | 'userA' | 'userB' | 'admin' | 'wrongSecret' | 'rightSecret' | 'identity';
	const callers: Caller[] = ['anonymous', 'userA', 'userB', 'admin', 'wrongSecret', 'rightSecret', 'identity'];
	/** Expected status per route and caller; every row is a route, every column a kind of caller (`identity`: a machine identity scoped to reveal). */
	const U = { anonymous: 401, wrongSecret: 401, rightSecret: 401, identity: 401 };
	const S = { anonymous: 401, userA: 401, userB: 401, admin: 401, wrongSecret: 401, rightSecret: 200, identity: 403 };
	const ADMIN = { ...U, userA: 403, userB: 403, admin: 200 };
	let identityToken: string;
	beforeAll(async () => {
		const created = await api('POST', '/credentials/identities', { token: directus.adminToken, body: { name: 'matrix-reveal', routes: ['reveal'] } });
		expect(created.status, created.text).toBe(201);
		identityToken = created.body.token;
	});
	const MATRIX: Record<string, Record<Caller, number>> = {
		'POST create-profile': { ...U, userA: 200, userB: 200, admin: 200 },
		'POST update-profile-creds': { ...U, userA: 200, userB: 403, admin: 200 },
		'POST create-download-cred': { ...U, userA: 200, userB: 403, admin: 200 },
		'POST store-platform-session': { ...U, userA: 200, userB: 403, admin: 200 },
		'POST revoke-platform-session': { ...U, userA: 200, userB: 403, admin: 200 },
		'POST /': { ...U, userA: 201, userB: 201, admin: 201 },
		'GET /': { ...U, userA: 200, userB: 200, admin: 200 },
		'GET /:id': { ...U, userA: 200, userB: 404, admin: 404 },
		'DELETE /:id': { ...U, userA: 204, userB: 404, admin: 404 },
		'POST store': S,
		'POST reveal': { ...S, identity: 200 },
		'POST reveal-download-cred': S,
		'POST get-platform-session': S,
		'POST encrypt': S,
		'POST decrypt': S,
		'POST reveal-key': S,
		'GET field-status': { ...U, userA: 200, userB: 404, admin: 200 },
		'GET status': { ...U, userA: 403, userB: 403, admin: 200 },
		'POST encrypt-existing': { ...U, userA: 403, userB: 403, admin: 200 },
		'GET identities': ADMIN,
		'POST identities': { ...ADMIN, admin: 201 },
		'POST identities/:id/revoke': ADMIN,
		'GET audit': ADMIN,
	};

	it('covers every route', () => {
		expect(Object.keys(MATRIX).sort()).toEqual(ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path.replace(/^\/(?!$|:)/, '')}`).sort());
	});

	/** A fresh request for A's resources, so that destructive cells do not depend on each other. */
	async function requestFor(route: string) {
		const conn = await connectionOf(A);
		const name = `n${randomBytes(4).toString('hex')}`;
		switch (route) {
			case 'POST create-profile': return { method: 'POST', path: '/credentials/create-profile', body: { platform: 'matrix', platform_username: name, credentials: { a: 1 } } };
			case 'POST update-profile-creds': return { method: 'POST', path: '/credentials/update-profile-creds', body: { creator_profile_id: conn, credentials: { a: 2 } } };
			case 'POST create-download-cred': return { method: 'POST', path: '/credentials/create-download-cred', body: { platform: 'yt', creator_profile_id: conn, auth_type: 'password', credentials: { password: 'p' } } };
			case 'POST store-platform-session': return { method: 'POST', path: '/credentials/store-platform-session', body: { creator_profile_id: conn, platform: 'ig', cookies: [{ name: 'n', value: 'v', domain: '.x.com' }] } };
			case 'POST revoke-platform-session': {
				const s = await asUser(A, 'store-platform-session', { creator_profile_id: conn, platform: 'ig', cookies: [{ name: 'n', value: 'v', domain: '.x.com' }] });
				return { method: 'POST', path: '/credentials/revoke-platform-session', body: { id: s.body.id } };
			}
			case 'POST /': return { method: 'POST', path: '/credentials', body: { service: 'openai', name, key: 'sk-matrix' } };
			case 'GET /': return { method: 'GET', path: '/credentials' };
			case 'GET /:id':
			case 'DELETE /:id': {
				const e = await api('POST', '/credentials', { token: A.token, body: { service: 'openai', name, key: 'sk-m' } });
				return { method: route.split(' ')[0]!, path: `/credentials/${e.body.id}` };
			}
			case 'POST store': return { method: 'POST', path: '/credentials/store', body: { creatorProfileId: conn, credentials: { s: 1 } } };
			case 'POST reveal': return { method: 'POST', path: '/credentials/reveal', body: { creatorProfileId: conn } };
			case 'POST reveal-download-cred': {
				const d = await asUser(A, 'create-download-cred', { platform: 'yt', creator_profile_id: conn, auth_type: 'password', credentials: { password: 'p' } });
				return { method: 'POST', path: '/credentials/reveal-download-cred', body: { id: d.body.id } };
			}
			case 'POST get-platform-session':
				await asUser(A, 'store-platform-session', { creator_profile_id: conn, platform: 'ig', cookies: [{ name: 'n', value: 'v', domain: '.x.com' }] });
				return { method: 'POST', path: '/credentials/get-platform-session', body: { creator_profile_id: conn, platform: 'ig' } };
			case 'GET field-status': return { method: 'GET', path: `/credentials/field-status?collection=platform_connections&field=encrypted_credentials&id=${conn}` };
			case 'GET status': return { method: 'GET', path: '/credentials/status' };
			case 'POST encrypt-existing': return { method: 'POST', path: '/credentials/encrypt-existing', body: { collection: 'platform_connections', field: 'encrypted_credentials' } };
			case 'POST encrypt': return { method: 'POST', path: '/credentials/encrypt', body: { data: { x: 1 } } };
			case 'POST decrypt': return { method: 'POST', path: '/credentials/decrypt', body: { collection: 'platform_connections', id: conn, field: 'encrypted_credentials' } };
			case 'GET identities': return { method: 'GET', path: '/credentials/identities' };
			case 'POST identities': return { method: 'POST', path: '/credentials/identities', body: { name, routes: ['reveal'] } };
			case 'POST identities/:id/revoke': {
				const made = await api('POST', '/credentials/identities', { token: directus.adminToken, body: { name, routes: ['encrypt'] } });
				return { method: 'POST', path: `/credentials/identities/${made.body.id}/revoke` };
			}
			case 'GET audit': return { method: 'GET', path: '/credentials/audit?limit=5' };
			case 'POST reveal-key': {
				const e = await api('POST', '/credentials', { token: A.token, body: { service: 'openai', name, key: 'sk-r' } });
				return { method: 'POST', path: '/credentials/reveal-key', body: { id: e.body.id } };
			}
		}
		throw new Error(`no request for ${route}`);
	}

	const cells = Object.entries(MATRIX).flatMap(([route, row]) => callers.map((caller) => [route, caller, row[caller]] as const));
	it.each(cells)('%s as %s → %i', async (route, caller, status) => {
		counts.matrix++;
		const req = await requestFor(route);
		const token = { userA: A.token, userB: B.token, admin: directus.adminToken }[caller as string];
		const headers = caller === 'rightSecret' ? secret() : caller === 'wrongSecret' ? { 'X-RBAC-SYNC-SECRET': 'wrong' } : caller === 'identity' ? { 'X-RBAC-SYNC-SECRET': identityToken } : {};
		const res = await api(req.method, req.path, { token, headers, body: req.body });
		expect(res.status, res.text).toBe(status);
		if (status >= 400) expect(res.body).toEqual({ success: false, error: expect.any(String) });
	});
});

describe('tampered envelopes', () => {
	it('every altered, swapped, truncated or re-encoded envelope is refused, never another row’s data', async () => {
		const one = await connectionOf(A);
		const two = await connectionOf(A);
		await asServer('store', { creatorProfileId: one, credentials: { who: 'one' } });
		await asServer('store', { creatorProfileId: two, credentials: { who: 'two' } });
		const dl = await asUser(A, 'create-download-cred', { platform: 'yt', creator_profile_id: one, auth_type: 'password', credentials: { password: 'dl' } });
		const read = async (table: string, id: string) => (await directus.db.query<{ v: string }>(`select encrypted_credentials as v from ${table} where id = ?`, id))[0]!.v;
		const write = (id: string, v: string) => directus.db.execute(`update platform_connections set encrypted_credentials = ? where id = ?`, v, id);
		const original = await read('platform_connections', two);
		const [prefix, version, kid, iv, tag, ct] = original.split(':') as string[];
		const flip = (part: string, at: number) => {
			const bytes = Buffer.from(part, 'base64url');
			bytes[at % bytes.length]! ^= 0x80;
			return bytes.toString('base64url');
		};
		const variants: [string, string][] = [
			['key id', [prefix, version, kid!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')), iv, tag, ct].join(':')],
			...[0, 5, 11].map((i) => [`iv byte ${i}`, [prefix, version, kid, flip(iv!, i), tag, ct].join(':')] as [string, string]),
			...[0, 8, 15].map((i) => [`tag byte ${i}`, [prefix, version, kid, iv, flip(tag!, i), ct].join(':')] as [string, string]),
			...[0, 3, 9].map((i) => [`ciphertext byte ${i}`, [prefix, version, kid, iv, tag, flip(ct!, i)].join(':')] as [string, string]),
			['swapped from another row', await read('platform_connections', one)],
			['swapped from another collection', await read('download_credentials', dl.body.id)],
			['truncated', original.slice(0, -6)],
			['re-encoded as base64', [prefix, version, kid, ...[iv, tag, ct].map((p) => Buffer.from(p!, 'base64url').toString('base64'))].join(':')],
			['empty ciphertext', [prefix, version, kid, iv, tag, ''].join(':')],
		];
		for (const [label, tampered] of variants) {
			await write(two, tampered);
			const res = await asServer('reveal', { creatorProfileId: two });
			expect(res.status, label).toBe(500);
			expect(res.body.success, label).toBe(false);
			expect(res.body.error, label).toMatch(/cannot be decrypted/);
			expect(res.text, label).not.toMatch(/"who"|dl"/);
		}
		await write(two, original);
		expect((await asServer('reveal', { creatorProfileId: two })).body.credentials).toEqual({ who: 'two' });
	});
});

describe('legacy values planted by clients', () => {
	it('a value in a legacy format (no key id, no row binding) is refused on every write path', async () => {
		// An old backup's ciphertext, under the instance's own key: it would open anywhere it lands.
		const raw = Buffer.from(directus.env.CREDENTIALS_ENC_KEY_B64!, 'base64');
		const planted = legacyEncrypt(raw, { planted: 'from-a-backup' });
		const created = await api('POST', '/items/platform_connections', { token: A.token, body: { platform: 'legacy', encrypted_credentials: planted } });
		expect(created.status, created.text).toBe(400);
		expect(created.body.errors[0].extensions.code).toBe('CREDENTIALS_LEGACY_REFUSED');
		expect(created.text).not.toContain(planted);
		const own = await connectionOf(A);
		const updated = await api('PATCH', `/items/platform_connections/${own}`, { token: A.token, body: { encrypted_credentials: planted } });
		expect(updated.status, updated.text).toBe(400);
		const profile = await api('POST', '/items/creator_profiles', { token: A.token, body: { platform: 'legacy', credentials: { enc: `v1:${planted}` } } });
		expect(profile.status, profile.text).toBe(400);
		const admin = await api('POST', '/items/platform_connections', { token: directus.adminToken, body: { platform: 'legacy', encrypted_credentials: planted } });
		expect(admin.status, admin.text).toBe(400);
		expect(await directus.db.query(`select id from platform_connections where platform = 'legacy'`)).toEqual([]);
	});
});

describe('leak scan', () => {
	it('no canary is stored, logged, echoed in an error or readable through /items by any role', async () => {
		const canaries: string[] = [];
		const c = (label: string) => {
			const v = `LEAK-${label}-${randomBytes(5).toString('hex')}`;
			canaries.push(v);
			return v;
		};
		const conn = (await asUser(A, 'create-profile', { platform: 'leak', credentials: { password: c('create-profile') } })).body.id;
		await asUser(A, 'update-profile-creds', { creator_profile_id: conn, credentials: { password: c('update-profile-creds') } });
		await asServer('store', { creatorProfileId: conn, credentials: { token: c('store') } });
		await asUser(A, 'create-download-cred', { platform: 'yt', creator_profile_id: conn, auth_type: 'password', credentials: { password: c('download-password') } });
		await asUser(A, 'create-download-cred', { platform: 'yt', creator_profile_id: conn, auth_type: 'cookies', credentials: { cookies_netscape: `.x.com\tTRUE\t/\tTRUE\t0\tSID\t${c('download-cookie')}` } });
		await asUser(A, 'store-platform-session', { creator_profile_id: conn, platform: 'ig', cookies: [{ name: 'sessionid', value: c('session-cookie'), domain: '.x.com' }] });
		await api('POST', '/credentials', { token: A.token, body: { service: 'openai', name: 'leak', key: c('vault-key') } });
		await api('POST', '/items/creator_profiles', { token: A.token, body: { platform: 'leak', credentials: { secret: c('items-json') } } });
		await api('PATCH', `/items/platform_connections/${conn}`, { token: A.token, body: { encrypted_credentials: c('items-patch') } });
		await api('POST', '/graphql', { token: A.token, body: { query: `mutation { create_platform_connections_item(data: { platform: "leak", encrypted_credentials: "${c('graphql')}" }) { id } }` } });
		await asServer('encrypt', { data: c('utility-encrypt') });
		// Error paths: a canary in an invalid body must not come back.
		const errors = [
			await asUser(A, 'create-profile', { platform: 'leak', credentials: c('error-string') }),
			await asUser(A, 'create-download-cred', { platform: 'yt', creator_profile_id: conn, auth_type: 'cookies', credentials: { cookies_netscape: c('error-netscape') } }),
			await api('POST', '/credentials', { token: A.token, body: { service: 'nope', name: 'x', key: c('error-vault') } }),
			await api('PATCH', `/items/platform_connections/${conn}`, { token: B.token, body: { encrypted_credentials: c('error-forbidden') } }),
		];
		const stores: Record<string, string> = {
			'database (every table)': await directus.db.everything(),
			'trace log': directus.log(),
			'error bodies': errors.map((e) => e.text).join('\n'),
		};
		for (const [caller, token] of [['admin', directus.adminToken], ['userA', A.token], ['userB', B.token], ['anonymous', undefined]] as const) {
			const reads = await Promise.all(
				['platform_connections', 'download_credentials', 'platform_sessions', 'creator_profiles', 'api_credentials'].map((col) => api('GET', `/items/${col}?limit=-1&fields=*.*`, { token })),
			);
			stores[`/items as ${caller}`] = reads.map((r) => r.text).join('\n');
			if (caller !== 'anonymous') expect(reads.some((r) => r.text.includes(MASK) || r.text.includes('"data":[]'))).toBe(true);
		}
		stores['revisions (admin API)'] = (await api('GET', '/revisions?limit=-1', { token: directus.adminToken })).text;
		stores['activity (admin API)'] = (await api('GET', '/activity?limit=-1', { token: directus.adminToken })).text;
		const found: string[] = [];
		for (const canary of canaries) {
			for (const [where, text] of Object.entries(stores)) {
				counts.leak++;
				if (text.includes(canary)) found.push(`${canary} in ${where}`);
			}
		}
		expect(found).toEqual([]);
		expect(canaries.length).toBeGreaterThanOrEqual(15);
	});
});

describe('concurrency', () => {
	it('200 parallel creates, updates, reveals and revokes: no 5xx, no lost update, no foreign value', async () => {
		const users = [A, B, C];
		const rows: { id: string; owner: User; initial: unknown }[] = [];
		for (const u of users) {
			for (let i = 0; i < 20; i++) {
				const initial = { init: randomBytes(4).toString('hex') };
				const id = (await asUser(u, 'create-profile', { platform: `conc${i}`, credentials: initial })).body.id;
				rows.push({ id, owner: u, initial });
			}
		}
		const sessions = await Promise.all(rows.slice(0, 20).map((r) => asUser(r.owner, 'store-platform-session', { creator_profile_id: r.id, platform: 'ig', cookies: [{ name: 'n', value: 'v', domain: '.x' }] })));
		const written = new Map<string, unknown>();
		const ops: (() => Promise<{ status: number; check?: () => void }>)[] = [];
		rows.forEach((row, i) => {
			if (i % 2 === 0) {
				const value = { updated: randomBytes(4).toString('hex') };
				ops.push(async () => {
					const res = await asUser(row.owner, 'update-profile-creds', { creator_profile_id: row.id, credentials: value });
					if (res.status === 200) written.set(row.id, value);
					return res;
				});
			}
		});
		for (let i = 0; i < 80; i++) {
			const row = rows[i % rows.length]!;
			ops.push(async () => {
				const res = await asServer('reveal', { creatorProfileId: row.id });
				return { status: res.status, check: () => expect([JSON.stringify(row.initial), JSON.stringify(written.get(row.id))]).toContain(JSON.stringify(res.body.credentials)) };
			});
		}
		for (let i = 0; i < 70; i++) ops.push(() => asUser(users[i % 3]!, 'create-profile', { platform: `new${i}`, credentials: { n: i } }));
		// The first 20 rows are A's, and so are their sessions.
		for (const s of sessions) ops.push(() => asUser(A, 'revoke-platform-session', { id: s.body.id }));
		expect(ops.length).toBe(200);
		const results = await Promise.all(ops.map((op) => op()));
		expect(results.filter((r) => r.status >= 500)).toEqual([]);
		expect(results.every((r) => r.status < 300)).toBe(true);
		for (const r of results) r.check?.();
		for (const row of rows) {
			const final = await asServer('reveal', { creatorProfileId: row.id });
			expect(final.body.credentials).toEqual(written.get(row.id) ?? row.initial);
		}
	});
});
