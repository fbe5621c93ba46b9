import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../tools/harness/directus.js';
import { webhookReceiver } from '../../tools/harness/webhook.js';
import { useDirectus, type Api, type TestUser } from './fixture.js';

/**
 * Machine identities (issue 22): named, scoped, revocable tokens for the server routes; the audit of
 * record they are named in; the shared secret still working as the seed documents it.
 */
// The flow's request operation posts to a webhook on this machine, which Directus's default deny list refuses.
const suite = useDirectus({ users: ['owner', 'other'], env: { CREDENTIALS_FAILED_ATTEMPTS_PER_MINUTE: '5', IMPORT_IP_DENY_LIST: '169.254.169.254' } });
let directus: Instance;
let api: Api;
let owner: TestUser;
let other: TestUser;

beforeAll(() => void ({ directus, api, users: [owner, other] } = suite));

const as = (token: string, route: string, body: unknown) => api('POST', `/credentials/${route}`, { body, headers: { 'X-RBAC-SYNC-SECRET': token } });
const sharedSecret = () => directus.env.RBAC_SYNC_WEBHOOK_SECRET!;
const auditOf = (identity: string) =>
	directus.db.query<{ route: string; caller: string; identity_name: string; collection: string | null; item: string | null; outcome: string }>(
		`select route, caller, identity_name, collection, item, outcome from credentials_audit where identity = ? order by id`,
		identity,
	);

async function connection(platform: string, credentials: Record<string, unknown>) {
	const res = await api('POST', '/credentials/create-profile', { token: owner.token, body: { platform, platform_username: randomBytes(3).toString('hex'), credentials } });
	expect(res.status, res.text).toBe(200);
	return res.body.id as string;
}

async function createByCli(args: string[]) {
	const out = await directus.cli(['credentials', 'identities', 'create', ...args, '--json']);
	expect(out.code, out.stderr).toBe(0);
	return JSON.parse(out.stdout.trim().split('\n').at(-1)!).identity as { id: string; name: string; token: string };
}

describe('machine identities', () => {
	let scraper: { id: string; token: string };
	let instagram: string;
	let tiktok: string;

	it('status warns while the shared secret is the only way in', async () => {
		const out = await directus.cli(['credentials', 'status', '--json']);
		expect(JSON.parse(out.stdout.trim().split('\n').at(-1)!).warnings.join(' ')).toMatch(/RBAC_SYNC_WEBHOOK_SECRET is the only way into the server routes/);
	});

	it('an identity created by the CLI gets a token shown once and stored only as its digest', async () => {
		scraper = await createByCli(['--name', 'instagram-scraper', '--routes', 'reveal', '--platforms', 'instagram']);
		expect(scraper.token).toMatch(/^cid_[A-Za-z0-9_-]{43}$/);
		const everything = await directus.db.everything();
		expect(everything).not.toContain(scraper.token);
		expect(everything).not.toContain(scraper.token.slice(4));
		const listed = await directus.cli(['credentials', 'identities', 'list', '--json']);
		expect(listed.stdout).not.toContain(scraper.token);
		expect(JSON.parse(listed.stdout.trim().split('\n').at(-1)!).identities).toEqual([
			expect.objectContaining({ name: 'instagram-scraper', routes: ['reveal'], platforms: ['instagram'], collections: null, active: true }),
		]);
		const status = await directus.cli(['credentials', 'status', '--json']);
		expect(JSON.parse(status.stdout.trim().split('\n').at(-1)!).warnings).toEqual([]);
	});

	it('scoped to reveal on instagram connections: reveals those, 404 on other platforms, 403 on every other route; all of it audited by name', async () => {
		instagram = await connection('instagram', { password: 'IG-SECRET' });
		tiktok = await connection('tiktok', { password: 'TT-SECRET' });
		expect(await as(scraper.token, 'reveal', { creatorProfileId: instagram })).toMatchObject({ status: 200, body: { credentials: { password: 'IG-SECRET' } } });
		const outside = await as(scraper.token, 'reveal', { creatorProfileId: tiktok });
		expect(outside).toMatchObject({ status: 404, body: { success: false } });
		expect(outside.text).not.toContain('TT-SECRET');
		const vault = await api('POST', '/credentials', { token: owner.token, body: { service: 'openai', name: 'scoped', key: 'sk-SCOPED' } });
		for (const [route, body] of [
			['store', { creatorProfileId: instagram, credentials: { password: 'overwritten' } }],
			['reveal-key', { id: vault.body.id }],
			['encrypt', { data: 'x' }],
			['decrypt', { collection: 'platform_connections', id: instagram, field: 'encrypted_credentials' }],
			['reveal-download-cred', { id: randomUUID() }],
			['get-platform-session', { creator_profile_id: instagram, platform: 'instagram' }],
		] as const) {
			const res = await as(scraper.token, route, body);
			expect(res, route).toMatchObject({ status: 403, body: { success: false, error: `This identity may not call /credentials/${route}` } });
			expect(res.text).not.toContain('SECRET');
		}
		// Nothing was stored by the refused store.
		expect((await as(sharedSecret(), 'reveal', { creatorProfileId: instagram })).body.credentials).toEqual({ password: 'IG-SECRET' });
		const audit = await auditOf(scraper.id);
		expect(audit.slice(0, 3)).toEqual([
			{ route: 'reveal', caller: 'identity', identity_name: 'instagram-scraper', collection: 'platform_connections', item: instagram, outcome: 'revealed' },
			{ route: 'reveal', caller: 'identity', identity_name: 'instagram-scraper', collection: 'platform_connections', item: tiktok, outcome: 'not-found' },
			{ route: 'store', caller: 'identity', identity_name: 'instagram-scraper', collection: null, item: null, outcome: 'refused' },
		]);
		expect(audit.filter((e) => e.outcome === 'refused')).toHaveLength(6);
		expect(JSON.stringify(await directus.db.query('select * from credentials_audit'))).not.toMatch(/IG-SECRET|TT-SECRET|sk-SCOPED/);
	});

	it('the shared secret still reaches every route and row, and is audited as such', async () => {
		expect((await as(sharedSecret(), 'reveal', { creatorProfileId: tiktok })).body.credentials).toEqual({ password: 'TT-SECRET' });
		expect((await as(sharedSecret(), 'store', { creatorProfileId: tiktok, credentials: { password: 'TT-2' } })).status).toBe(200);
		const entries = await directus.db.query(`select caller, identity, outcome from credentials_audit where item = ? and caller = 'shared-secret'`, tiktok);
		expect(entries).toContainEqual({ caller: 'shared-secret', identity: null, outcome: 'revealed' });
	});

	it('admins create, list and revoke identities over the API; a revoked token answers 401 at once', async () => {
		const body = { name: 'vault-reader', routes: ['reveal-key'], services: ['openai'] };
		expect((await api('POST', '/credentials/identities', { token: owner.token, body })).status).toBe(403);
		expect((await api('POST', '/credentials/identities', { body })).status).toBe(401);
		expect((await api('POST', '/credentials/identities', { token: directus.adminToken, body: { name: 'x', routes: ['everything'] } })).status).toBe(400);
		const created = await api('POST', '/credentials/identities', { token: directus.adminToken, body });
		expect(created.status, created.text).toBe(201);
		expect(created.body).toMatchObject({ name: 'vault-reader', routes: ['reveal-key'], services: ['openai'], active: true, token: expect.stringMatching(/^cid_/) });
		expect((await api('POST', '/credentials/identities', { token: directus.adminToken, body })).status).toBe(409);
		const listed = await api('GET', '/credentials/identities', { token: directus.adminToken });
		expect(listed.text).not.toContain(created.body.token);
		expect(listed.text).not.toContain('token_hash');
		const openai = await api('POST', '/credentials', { token: owner.token, body: { service: 'openai', name: 'api-id', key: 'sk-OPENAI' } });
		const binance = await api('POST', '/credentials', { token: other.token, body: { service: 'binance', name: 'api-id', key: 'bn-KEY' } });
		expect((await as(created.body.token, 'reveal-key', { id: openai.body.id })).body.key).toBe('sk-OPENAI');
		expect((await as(created.body.token, 'reveal-key', { id: binance.body.id })).status).toBe(404);
		const revoked = await api('POST', `/credentials/identities/${created.body.id}/revoke`, { token: directus.adminToken });
		expect(revoked).toMatchObject({ status: 200, body: { active: false, revoked_at: expect.any(String) } });
		expect(await as(created.body.token, 'reveal-key', { id: openai.body.id })).toMatchObject({ status: 401, body: { success: false, error: 'Unauthorized' } });
	});

	it('revoked by the CLI, or expired by an admin editing it in the Studio: 401; the Studio creates one with a browser-made token', async () => {
		const cli = await createByCli(['--name', 'short-lived', '--routes', 'reveal']);
		expect((await as(cli.token, 'reveal', { creatorProfileId: instagram })).status).toBe(200);
		const out = await directus.cli(['credentials', 'identities', 'revoke', 'short-lived', '--json']);
		expect(out.code, out.stderr).toBe(0);
		expect((await as(cli.token, 'reveal', { creatorProfileId: instagram })).status).toBe(401);

		const expiring = await createByCli(['--name', 'expiring', '--routes', 'reveal', '--expires', new Date(Date.now() + 3_600_000).toISOString()]);
		expect((await as(expiring.token, 'reveal', { creatorProfileId: instagram })).status).toBe(200);
		const past = new Date(Date.now() - 1000).toISOString();
		const edit = await api('PATCH', `/items/credentials_identities/${expiring.id}`, { token: directus.adminToken, body: { expires_at: past } });
		expect(edit.status, edit.text).toBe(200);
		expect((await as(expiring.token, 'reveal', { creatorProfileId: instagram })).status).toBe(401);
		// The Studio edits scope and dates, never the token, and creates none (the token would have nowhere to be shown).
		expect((await api('PATCH', `/items/credentials_identities/${expiring.id}`, { token: directus.adminToken, body: { token_hash: 'f'.repeat(64) } })).status).toBe(400);
		expect((await api('PATCH', `/items/credentials_identities/${expiring.id}`, { token: directus.adminToken, body: { routes: ['create-profile'] } })).status).toBe(400);
		expect((await api('POST', '/items/credentials_identities', { token: directus.adminToken, body: { name: 'studio', routes: ['reveal'], token_hash: 'f'.repeat(64) } })).status).toBe(400);
		// As the Studio's form creates one: a token generated in the browser, of which only the digest is kept (row, revision, activity).
		const browserToken = `cid_${randomBytes(32).toString('base64url')}`;
		const made = await api('POST', '/items/credentials_identities', { token: directus.adminToken, body: { name: 'made-in-studio', routes: ['reveal'], platforms: [], token_hash: browserToken } });
		expect(made.status, made.text).toBe(200);
		expect(made.text).not.toContain(browserToken.slice(4));
		expect(made.body.data).toMatchObject({ name: 'made-in-studio', routes: ['reveal'], platforms: null });
		expect((await as(browserToken, 'reveal', { creatorProfileId: instagram })).status).toBe(200);
		expect((await as(browserToken, 'reveal', { creatorProfileId: tiktok })).status).toBe(200);
		expect(await directus.db.everything()).not.toContain(browserToken.slice(4));
		expect(await directus.db.query(`select id from directus_revisions where collection = 'credentials_identities'`)).not.toHaveLength(0);
		expect((await api('GET', '/items/credentials_identities', { token: owner.token })).status).toBe(403);
	});

	it('a policy that grants a user the identities collection still gives no write: an identity could otherwise give itself every scope', async () => {
		const admin = directus.adminToken;
		const [policy] = await directus.db.query<{ id: string }>(`select id from directus_policies where name = 'Credentials Owner'`);
		const granted: string[] = [];
		for (const action of ['create', 'read', 'update', 'delete']) {
			const permission = await api('POST', '/permissions', { token: admin, body: { policy: policy!.id, collection: 'credentials_identities', action, fields: ['*'] } });
			expect(permission.status, permission.text).toBe(200);
			granted.push(permission.body.data.id);
		}
		try {
			const mine = `cid_${randomBytes(32).toString('base64url')}`;
			expect((await api('POST', '/items/credentials_identities', { token: owner.token, body: { name: 'self-made', routes: ['reveal'], token_hash: mine } })).status).toBe(403);
			expect((await as(mine, 'reveal', { creatorProfileId: instagram })).status).toBe(401);
			const revoked = (await directus.db.query<{ id: string }>(`select id from credentials_identities where name = 'short-lived'`))[0]!.id;
			expect((await api('PATCH', `/items/credentials_identities/${revoked}`, { token: owner.token, body: { revoked_at: null } })).status).toBe(403);
			expect((await api('DELETE', `/items/credentials_identities/${scraper.id}`, { token: owner.token })).status).toBe(403);
			expect((await api('GET', '/items/credentials_identities', { token: owner.token })).status).toBe(403);
			expect((await directus.db.query(`select id from credentials_identities where id = ? and revoked_at is not null`, revoked)).length).toBe(1);
		} finally {
			await api('DELETE', '/permissions', { token: admin, body: granted });
		}
	});

	it('a rate-limited identity answers 429 past its reveals per minute; the first refusal is audited, the rest are not', async () => {
		const limited = await createByCli(['--name', 'limited', '--routes', 'reveal,encrypt', '--rate-limit', '3']);
		const answers = [];
		for (let i = 0; i < 6; i++) answers.push((await as(limited.token, 'reveal', { creatorProfileId: instagram })).status);
		// A minute boundary may fall inside the loop: then the count starts again, never more than 3 in one minute.
		expect(answers.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
		expect(answers.slice(0, 3)).toEqual([200, 200, 200]);
		expect(answers).toContain(429);
		const refused = await as(limited.token, 'reveal', { creatorProfileId: instagram });
		if (refused.status === 429) expect(refused.body).toEqual({ success: false, error: 'This identity may reveal 3 values per minute: try again in a minute' });
		// Only reveals count: encrypt is not limited.
		expect((await as(limited.token, 'encrypt', { data: 'x' })).status).toBe(200);
		const outcomes = (await auditOf(limited.id)).map((e) => e.outcome);
		expect(outcomes.filter((o) => o === 'rate-limited')).toHaveLength(1);
	});

	it('wrong tokens are answered 401, then 429 past the limit per address, and never written; a valid token still passes', async () => {
		const before = (await directus.db.query<{ n: number }>('select count(*) as n from credentials_audit'))[0]!.n;
		const statuses = [];
		for (let i = 0; i < 8; i++) statuses.push((await as(`cid_${randomBytes(32).toString('base64url')}`, 'reveal', { creatorProfileId: instagram })).status);
		// Earlier tests' revoked and expired tokens count in the same minute: 401s, then only 429s.
		const firstLimited = statuses.indexOf(429);
		expect(firstLimited).toBeGreaterThanOrEqual(0);
		expect(firstLimited).toBeLessThanOrEqual(5);
		expect(statuses.slice(0, firstLimited).every((s) => s === 401)).toBe(true);
		expect(statuses.slice(firstLimited).every((s) => s === 429)).toBe(true);
		expect((await as(scraper.token, 'reveal', { creatorProfileId: instagram })).status).toBe(200);
		// Past the limit the shared secret is not even compared (it may be guessable): the right one waits out the minute too.
		expect((await as(sharedSecret(), 'reveal', { creatorProfileId: instagram })).status).toBe(429);
		expect(Number((await directus.db.query<{ n: number }>('select count(*) as n from credentials_audit'))[0]!.n)).toBe(Number(before) + 1);
	});

	it('the audit is append-only through Directus and admins alone read it', async () => {
		const [entry] = await directus.db.query<{ id: number }>('select id from credentials_audit order by id limit 1');
		const admin = directus.adminToken;
		expect((await api('GET', '/items/credentials_audit?limit=1', { token: admin })).status).toBe(200);
		expect((await api('GET', '/items/credentials_audit', { token: owner.token })).status).toBe(403);
		expect((await api('PATCH', `/items/credentials_audit/${entry!.id}`, { token: admin, body: { outcome: 'revealed' } })).status).toBe(400);
		expect((await api('DELETE', `/items/credentials_audit/${entry!.id}`, { token: admin })).status).toBe(400);
		expect((await api('POST', '/items/credentials_audit', { token: admin, body: { route: 'reveal', outcome: 'revealed' } })).status).toBe(400);
		expect((await api('DELETE', '/collections/credentials_audit', { token: admin })).status).toBe(400);
		// Nor reshaped: no field dropped or changed, no relation that would delete entries with their identity.
		expect((await api('DELETE', '/fields/credentials_audit/identity', { token: admin })).status).toBe(400);
		expect((await api('PATCH', '/fields/credentials_audit/outcome', { token: admin, body: { schema: { is_nullable: true, default_value: 'revealed' } } })).status).toBe(400);
		const cascade = { collection: 'credentials_audit', field: 'identity', related_collection: 'credentials_identities', schema: { on_delete: 'CASCADE' } };
		expect((await api('POST', '/relations', { token: admin, body: cascade })).status).toBe(400);
		expect(await directus.db.query(`select id from directus_relations where many_collection = 'credentials_audit'`)).toEqual([]);
		// Nor by a flow whose "Delete Data" has events off (which would skip every filter): its events are forced on.
		const flow = await api('POST', '/flows', { token: admin, body: { name: 'erase audit', status: 'active', trigger: 'webhook', accountability: null, options: { method: 'POST', async: false } } });
		const op = await api('POST', '/operations', {
			token: admin,
			body: { flow: flow.body.data.id, key: 'erase', name: 'erase', type: 'item-delete', position_x: 19, position_y: 1, options: { collection: 'credentials_audit', permissions: '$full', emitEvents: false, key: [String(entry!.id)] } },
		});
		expect(op.body.data.options.emitEvents).toBe(true);
		expect((await api('PATCH', `/flows/${flow.body.data.id}`, { token: admin, body: { operation: op.body.data.id } })).status).toBe(200);
		await api('POST', `/flows/trigger/${flow.body.data.id}`, { token: admin, body: {} });
		await api('DELETE', `/flows/${flow.body.data.id}`, { token: admin });
		expect((await directus.db.query('select id from credentials_audit where id = ?', entry!.id)).length).toBe(1);
	});

	it('GET /credentials/audit pages and filters the audit for admins, with a summary per day, caller and route', async () => {
		const token = directus.adminToken;
		const read = (query: string) => api('GET', `/credentials/audit${query}`, { token });
		expect((await api('GET', '/credentials/audit', { token: owner.token })).status).toBe(403);
		expect((await api('GET', '/credentials/audit')).status).toBe(401);
		for (const bad of ['?limit=0', '?limit=101', '?route=nope', '?identity=x', '?days=0', '?page=-1']) {
			expect(await read(bad), bad).toMatchObject({ status: 400, body: { success: false } });
		}
		const all = await read('?limit=100');
		expect(all.status, all.text).toBe(200);
		const inDb = Number((await directus.db.query<{ n: number }>('select count(*) as n from credentials_audit'))[0]!.n);
		expect(all.body.total).toBe(inDb);
		expect(all.body.entries.map((e: { id: number }) => e.id)).toEqual([...all.body.entries.map((e: { id: number }) => e.id)].sort((a, b) => b - a));
		const { by_day, by_caller, by_route } = all.body.summary;
		expect(by_day).toHaveLength(30);
		expect(by_day.at(-1).day).toBe(new Date().toISOString().slice(0, 10));
		expect(by_day.reduce((n: number, d: { revealed: number; other: number }) => n + d.revealed + d.other, 0)).toBe(inDb);
		const revealedInDb = Number((await directus.db.query<{ n: number }>(`select count(*) as n from credentials_audit where outcome = 'revealed'`))[0]!.n);
		expect(by_day.at(-1).revealed).toBe(revealedInDb);
		const scraperCount = (await auditOf(scraper.id)).length;
		expect(by_caller).toContainEqual({ caller: 'identity', identity: scraper.id, identity_name: 'instagram-scraper', count: scraperCount });
		expect(by_route.find((r: { route: string }) => r.route === 'store').count).toBeGreaterThanOrEqual(1);

		const mine = await read(`?identity=${scraper.id}&limit=2`);
		expect(mine.body.total).toBe(scraperCount);
		expect(mine.body.entries).toHaveLength(2);
		expect(mine.body.entries.every((e: { identity_name: string }) => e.identity_name === 'instagram-scraper')).toBe(true);
		const next = await read(`?identity=${scraper.id}&limit=2&page=2`);
		expect(next.body.entries[0].id).toBeLessThan(mine.body.entries[1].id);
		const refused = await read(`?identity=${scraper.id}&outcome=refused`);
		expect(refused.body.total).toBe(6);
		expect((await read('?caller=shared-secret&route=reveal')).body.entries.every((e: { caller: string; route: string }) => e.caller === 'shared-secret' && e.route === 'reveal')).toBe(true);
		expect(all.text).not.toMatch(/IG-SECRET|TT-SECRET|sk-SCOPED|sk-OPENAI/);
	});

	it("the README's flow posts every reveal by an unexpected identity to a webhook", async () => {
		const token = directus.adminToken;
		const hook = await webhookReceiver();
		const flow = randomUUID();
		try {
			expect((await api('POST', '/flows', { token, body: { id: flow, name: 'Unexpected identity', status: 'active', trigger: 'event', accountability: null, options: { type: 'action', scope: ['credentials.reveal'] } } })).status).toBe(200);
			const post = await api('POST', '/operations', { token, body: { flow, key: 'post', name: 'post', type: 'request', position_x: 37, position_y: 1, options: { method: 'POST', url: hook.url, body: '{{$trigger}}' } } });
			const when = await api('POST', '/operations', {
				token,
				body: { flow, key: 'when', name: 'when', type: 'condition', position_x: 19, position_y: 1, resolve: post.body.data.id, options: { filter: { $trigger: { identity: { _nin: ['instagram-scraper'] } } } } },
			});
			expect(when.status, when.text).toBe(200);
			expect((await api('PATCH', `/flows/${flow}`, { token, body: { operation: when.body.data.id } })).status).toBe(200);
			const surprise = await createByCli(['--name', 'surprise', '--routes', 'reveal']);
			expect((await as(scraper.token, 'reveal', { creatorProfileId: instagram })).status).toBe(200);
			expect((await as(surprise.token, 'reveal', { creatorProfileId: instagram })).status).toBe(200);
			await expect.poll(() => hook.received.length, { timeout: 10_000 }).toBe(1);
			expect(JSON.parse(hook.received[0]!)).toMatchObject({ route: 'reveal', item: instagram, identity: 'surprise', caller: 'server', outcome: 'revealed' });
			expect(hook.received[0]).not.toContain('IG-SECRET');
			await new Promise((r) => setTimeout(r, 500));
			expect(hook.received).toHaveLength(1);
		} finally {
			hook.close();
			await api('DELETE', `/flows/${flow}`, { token });
		}
	});
});
