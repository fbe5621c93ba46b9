import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldHealth } from '../../src/contracts/studio.js';
import { censusOf, tallyStored, type Census } from '../../src/lifecycle/census.js';
import { storedValue, textEquals, type Target } from '../../src/lifecycle/scan.js';
import { LOCK_ID, LOCK_NAME } from '../../src/schema/install-lock.js';
import { INDEXES, type IndexDef } from '../../src/schema/indexes.js';
import type { Instance } from '../../tools/harness/directus.js';
import { useDirectus, type Api, type TestUser } from './fixture.js';

/**
 * What the columns hold, on every database: values up to the 1 MB body limit through every write
 * route, dates after 2038, an installation made with the old column types upgraded in place,
 * case-sensitive names and compare-and-swap, and a CLI whose --json output is one line.
 */
const suite = useDirectus({ users: ['storage'] });
let directus: Instance;
let api: Api;
let user: TestUser;
const mysql = () => directus.db.kind === 'mysql';
const server = () => ({ 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! });
const asUser = (route: string, body: unknown) => api('POST', `/credentials/${route}`, { token: user.token, body });
const asServer = (route: string, body: unknown) => api('POST', `/credentials/${route}`, { body, headers: server() });
/** A credentials object whose JSON is about `bytes` long (random, so nothing compresses it away). */
const credentialsOf = (bytes: number) => ({ blob: randomBytes(Math.ceil((bytes * 3) / 8)).toString('base64').slice(0, bytes - 12) });

beforeAll(() => void ({ directus, api, users: [user] } = suite));

/** The columns, in order, of an index as the database lists it (none: it does not exist). */
async function indexColumns({ table, name }: IndexDef): Promise<string[]> {
	const sql = {
		sqlite: `select name as c from pragma_index_info('${name}') order by seqno`,
		postgres: `select a.attname as c from pg_index i join pg_class x on x.oid = i.indexrelid join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey) where x.relname = '${name}' order by array_position(i.indkey::int[], a.attnum::int)`,
		mysql: `select column_name as c from information_schema.statistics where table_schema = database() and table_name = '${table}' and index_name = '${name}' order by seq_in_index`,
	}[directus.db.kind];
	return (await directus.db.query<{ c: string }>(sql)).map((r) => r.c);
}

async function roundTripEveryRoute(bytes: number) {
	const credentials = credentialsOf(bytes);
	const platform = `big${bytes}-${randomBytes(3).toString('hex')}`;
	const created = await asUser('create-profile', { platform, platform_username: 'u', credentials });
	expect(created.status, created.text.slice(0, 300)).toBe(200);
	const id = created.body.id as string;
	expect((await asServer('reveal', { creatorProfileId: id })).body.credentials).toEqual(credentials);

	const updated = credentialsOf(bytes);
	expect((await asUser('update-profile-creds', { creator_profile_id: id, credentials: updated })).status).toBe(200);
	expect((await asServer('reveal', { creatorProfileId: id })).body.credentials).toEqual(updated);

	const stored = credentialsOf(bytes);
	const store = await asServer('store', { creatorProfileId: id, credentials: stored });
	expect(store.status, store.text.slice(0, 300)).toBe(200);
	expect((await asServer('reveal', { creatorProfileId: id })).body.credentials).toEqual(stored);

	const password = 'p'.repeat(bytes - 40);
	const download = await asUser('create-download-cred', { platform, creator_profile_id: id, auth_type: 'password', credentials: { password } });
	expect(download.status, download.text.slice(0, 300)).toBe(200);
	expect((await asServer('reveal-download-cred', { id: download.body.id })).body.credentials).toEqual({ password });

	// Cookies: at most 1,000, so each carries its share of the size.
	const cookies = Array.from({ length: 100 }, (_, i) => ({ name: `c${i}`, value: randomBytes(Math.floor(bytes / 180)).toString('hex'), domain: '.example.com' }));
	const session = await asUser('store-platform-session', { creator_profile_id: id, platform, cookies });
	expect(session.status, session.text.slice(0, 300)).toBe(200);
	const got = await asServer('get-platform-session', { creator_profile_id: id, platform });
	expect(got.status).toBe(200);
	expect(got.body.cookies).toEqual(cookies);
}

describe('values up to what the routes accept', () => {
	it('100 KB credentials round-trip through every write route and its reveal', () => roundTripEveryRoute(100_000));
	it('900 KB credentials round-trip through every write route and its reveal', () => roundTripEveryRoute(900_000));

	it('a 64 KB vault key (the most the route accepts) is stored and revealed', async () => {
		const key = `sk-${randomBytes(48 * 1024).toString('base64')}`.slice(0, 64 * 1024);
		const created = await api('POST', '/credentials', { token: user.token, body: { service: 'openai', name: `big-${randomBytes(3).toString('hex')}`, key } });
		expect(created.status, created.text.slice(0, 300)).toBe(201);
		const revealed = await api('POST', '/credentials/reveal-key', { body: { id: created.body.id }, headers: server() });
		expect(revealed.body.key).toBe(key);
		const tooLong = await api('POST', '/credentials', { token: user.token, body: { service: 'openai', name: 'too-long', key: `${key}x` } });
		expect(tooLong).toMatchObject({ status: 400, body: { success: false, error: 'key is longer than 64 KB' } });
	});
});

describe('dates', () => {
	it('an expiry in 2099 round-trips, as ISO 8601 with Z, through the route and /items', async () => {
		const id = (await asUser('create-profile', { platform: 'dates', platform_username: 'u', credentials: { k: 'v' } })).body.id;
		const expires = '2099-06-30T23:59:58.000Z';
		const stored = await asUser('store-platform-session', { creator_profile_id: id, platform: 'dates', cookies: [{ name: 'a', value: 'b', domain: '.x.com' }], expires_at: expires });
		expect(stored.status, stored.text).toBe(200);
		const got = await asServer('get-platform-session', { creator_profile_id: id, platform: 'dates' });
		expect(got.body.expires_at).toBe(expires);
		const item = await api('GET', `/items/platform_sessions/${stored.body.id}?fields=expires_at,captured_at`, { token: user.token });
		expect(item.body.data.expires_at).toBe('2099-06-30T23:59:58.000Z');
		expect(item.body.data.captured_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
		expect(Math.abs(Date.parse(item.body.data.captured_at) - Date.now())).toBeLessThan(5 * 60_000);
	});
});

describe('case', () => {
	it('vault names differ by case alone on every database', async () => {
		const name = `Prod-${randomBytes(3).toString('hex')}`;
		const upper = await api('POST', '/credentials', { token: user.token, body: { service: 'openai', name, key: 'sk-upper' } });
		expect(upper.status, upper.text).toBe(201);
		const lower = await api('POST', '/credentials', { token: user.token, body: { service: 'openai', name: name.toLowerCase(), key: 'sk-lower' } });
		expect(lower.status, lower.text).toBe(201);
		const again = await api('POST', '/credentials', { token: user.token, body: { service: 'openai', name, key: 'sk-again' } });
		expect(again.status).toBe(409);
	});

	it("compare-and-swap matches a stored envelope byte for byte, never a case variant of it", async () => {
		const id = (await asUser('create-profile', { platform: 'cas', platform_username: 'u', credentials: { k: 'v' } })).body.id;
		const [row] = await directus.db.query<{ v: string }>(`select encrypted_credentials as v from platform_connections where id = ?`, id);
		const db = knexOf(directus);
		try {
			const count = async (value: string) => Number((await db('platform_connections').count({ n: '*' }).where('id', id).andWhere(textEquals(db, 'encrypted_credentials', value)))[0]!['n']);
			expect(await count(row!.v)).toBe(1);
			expect(await count(row!.v.toUpperCase())).toBe(0);
			expect(await count(row!.v.toLowerCase())).toBe(0);
		} finally {
			await db.destroy();
		}
	});
});

/** A knex of the test's own on the instance's database, to run the extension's SQL helpers there. */
function knexOf(instance: Instance, pool?: { min: number; max: number }) {
	const env = instance.db.env;
	const client = { sqlite: 'sqlite3', postgres: 'pg', mysql: 'mysql2' }[instance.db.kind];
	const connection =
		instance.db.kind === 'sqlite' ? { filename: env.DB_FILENAME! } : { host: env.DB_HOST, port: Number(env.DB_PORT), user: env.DB_USER, password: env.DB_PASSWORD, database: env.DB_DATABASE };
	return knex({ client, connection, useNullAsDefault: true, ...(pool ? { pool } : {}) });
}

describe('status, counted in SQL without decrypting', () => {
	const TEXT: Target = { collection: 'platform_connections', field: 'encrypted_credentials', pk: 'id', pkType: 'uuid', json: false };
	// A JSON column: PostgreSQL's jsonb prints it back as `{"enc": "…"}`, the others as written.
	const JSON_COLUMN: Target = { collection: 'creator_profiles', field: 'credentials', pk: 'id', pkType: 'uuid', json: true };
	const statusOf = async (target: Target) => {
		const res = await api('GET', '/credentials/status', { token: directus.adminToken });
		expect(res.status, res.text).toBe(200);
		return (res.body.fields as FieldHealth[]).find((f) => f.field === `${target.collection}.${target.field}`)!;
	};
	/** Every value of the column read and counted one by one: what the grouped SQL must agree with. */
	const oneByOne = async (target: Target): Promise<Census> => {
		const rows = await directus.db.query<{ v: string | null }>(`select cast(${target.field} as ${mysql() ? 'char' : 'text'}) as v from ${target.collection}`);
		const census: Census = { rows: rows.length, empty: 0, byKeyId: {}, legacy: 0, directusEncrypt: 0, plaintext: 0 };
		for (const row of rows) tallyStored(census, storedValue(target, row.v));
		return census;
	};
	const lookAlikes: string[] = [];

	it('agrees with reading every value one by one, look-alikes of an envelope counted as the plaintext they are', async () => {
		const admin = directus.adminToken;
		const profile = await api('POST', '/items/creator_profiles', { token: admin, body: { platform: 'census', username: 'json', credentials: { token: 'x' } } });
		expect(profile.status, profile.text).toBe(200);
		const conn = await asUser('create-profile', { platform: 'census', platform_username: 'text', credentials: { token: 'y' } });
		const [text] = await directus.db.query<{ v: string }>('select encrypted_credentials as v from platform_connections where id = ?', conn.body.id);
		const envelope = text!.v;
		// An upper-case prefix is plaintext to the extension (and to a case-insensitive collation, the same letters);
		// an {"enc"} object with a second member is plaintext too.
		const upper = randomUUID();
		await directus.db.execute(`insert into platform_connections (id, platform, platform_username, encrypted_credentials) values (?, 'census', 'upper', ?)`, upper, `CRED:V2:${envelope.slice(8)}`);
		const twoMembers = randomUUID();
		await directus.db.execute(`insert into creator_profiles (id, platform, username, credentials, scrape_status) values (?, 'census', 'two', ?, 'idle')`, twoMembers, JSON.stringify({ enc: envelope, x: 'y' }));
		lookAlikes.push(upper, twoMembers);

		const db = knexOf(directus);
		try {
			for (const target of [TEXT, JSON_COLUMN]) {
				const expected = await oneByOne(target);
				expect(expected.plaintext, target.field).toBeGreaterThanOrEqual(1);
				expect(await censusOf(db, target), target.field).toEqual(expected);
				expect(await statusOf(target), target.field).toMatchObject(expected);
			}
		} finally {
			await db.destroy();
		}
	});

	it('takes what only decrypting tells from the last verify, with its time', async () => {
		// A value that names the current key but no longer opens: the census counts it under its key, verify finds it.
		const conn = await asUser('create-profile', { platform: 'census', platform_username: 'tampered', credentials: { token: 'z' } });
		const [row] = await directus.db.query<{ v: string }>('select encrypted_credentials as v from platform_connections where id = ?', conn.body.id);
		const tampered = row!.v.slice(0, -2) + (row!.v.endsWith('AA') ? 'BB' : 'AA');
		await directus.db.execute('update platform_connections set encrypted_credentials = ? where id = ?', tampered, conn.body.id);
		lookAlikes.push(conn.body.id);
		const started = Date.now();
		const verify = await directus.cli(['credentials', 'verify', '--json']);
		expect(verify.code).toBe(1);
		await new Promise((r) => setTimeout(r, 2_100)); // status answers may be up to two seconds old
		const field = await statusOf(TEXT);
		expect(field.undecryptable).toBe(1);
		expect(Date.parse(field.verifiedAt!)).toBeGreaterThanOrEqual(started - 1000);
		expect(field.plaintext).toBe(1); // the look-alike: a plaintext finding, not an undecryptable one
		// Counts only, and for admins only: no policy grants the record.
		expect((await api('GET', '/items/credentials_verifications', { token: user.token })).status).toBe(403);
	});

	it('reflects a write within two seconds', async () => {
		const before = await statusOf(TEXT);
		const current = Object.keys(before.byKeyId).find((id) => before.byKeyId[id]! > 0)!;
		const conn = await asUser('create-profile', { platform: 'census', platform_username: `fresh-${randomBytes(3).toString('hex')}`, credentials: { token: 'w' } });
		expect(conn.status).toBe(200);
		lookAlikes.push(conn.body.id);
		await new Promise((r) => setTimeout(r, 2_100));
		const after = await statusOf(TEXT);
		expect(after.rows).toBe(before.rows + 1);
		expect(after.byKeyId[current]).toBe(before.byKeyId[current]! + 1);
	});

	// The tests that follow see no look-alike or broken value.
	afterAll(async () => {
		for (const id of lookAlikes) {
			await directus.db.execute('delete from platform_connections where id = ?', id);
			await directus.db.execute('delete from creator_profiles where id = ?', id);
		}
	});
});

describe('the CLI', () => {
	it('verify with more failing rows than it lists: the exact count, the first 1,000, and every one in --failures-file', async () => {
		const ids = Array.from({ length: 1005 }, () => randomUUID());
		await directus.db.execute(
			`insert into platform_connections (id, platform, platform_username, encrypted_credentials) values ${ids.map(() => "(?, 'many', ?, ?)").join(', ')}`,
			...ids.flatMap((id, i) => [id, `many-${i}`, `plain-${i}`]),
		);
		try {
			const file = join(directus.dir, 'failures.jsonl');
			const out = await directus.cli(['credentials', 'verify', '--json', '--collection', 'platform_connections', '--failures-file', file]);
			expect(out.code).toBe(1);
			const summary = JSON.parse(out.stdout.trim().split('\n').pop()!);
			expect(summary.failed).toBe(1005);
			expect(summary.failures).toHaveLength(1000);
			const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
			expect(lines).toHaveLength(1005);
			expect(new Set(lines.map((l) => l.id))).toEqual(new Set(ids));
			expect(lines[0]).toMatchObject({ collection: 'platform_connections', field: 'encrypted_credentials', reason: 'plaintext: value is not encrypted' });
			expect(readFileSync(file, 'utf8')).not.toContain('plain-'); // where and why, never the value
		} finally {
			await directus.db.execute(`delete from platform_connections where platform = 'many'`);
		}
	});

	it('status --json prints exactly one JSON line on stdout when Directus logs only errors (the setting the README gives)', async () => {
		const out = await directus.cli(['credentials', 'status', '--json'], { LOG_LEVEL: 'error' });
		expect(out.code).toBe(0);
		expect(out.stdout.endsWith('\n')).toBe(true);
		expect(out.stdout.trim().split('\n')).toHaveLength(1);
		expect(JSON.parse(out.stdout)).toMatchObject({ fields: expect.any(Array) });
	});

	it('npm run cli -- credentials status --json: stdout holds the JSON line alone, however much Directus logs', async () => {
		// The process environment wins over the local instance's .env: this runs against the test's instance.
		const env = { ...directus.env, LOG_LEVEL: 'info', CREDENTIALS_LOCAL_DIR: directus.dir };
		const out = await promisify(execFile)(process.execPath, ['scripts/cli.mjs', 'credentials', 'status', '--json'], { env, encoding: 'utf8' });
		expect(out.stdout.trim().split('\n')).toHaveLength(1);
		expect(JSON.parse(out.stdout)).toMatchObject({ fields: expect.any(Array) });
		// What Directus said went to stderr.
		expect(out.stderr).toMatch(/Extensions loaded|level/);
	});
});

describe('an installation made with the old column types', () => {
	it('setup upgrades it in place: every row reveals, large values and late dates fit, and it says what it changed', async () => {
		const id = (await asUser('create-profile', { platform: 'upgrade', platform_username: 'u', credentials: { before: 'upgrade' } })).body.id;
		const session = await asUser('store-platform-session', { creator_profile_id: id, platform: 'upgrade', cookies: [{ name: 'a', value: 'before', domain: '.x.com' }], expires_at: '2030-01-02T03:04:05.000Z' });
		expect(session.status).toBe(200);
		const key = await api('POST', '/credentials', { token: user.token, body: { service: 'openai', name: 'upgrade', key: 'sk-before-upgrade' } });
		expect(key.status).toBe(201);
		if (mysql()) {
			// The column types Directus gives `text` and `timestamp` fields, as versions before this one left them
			// (which could never have held the large values the tests above stored).
			for (const [table, column] of [['platform_sessions', 'encrypted_cookies'], ['download_credentials', 'encrypted_credentials'], ['platform_connections', 'encrypted_credentials'], ['api_credentials', 'encrypted_key']])
				await directus.db.execute(`delete from ${table} where length(${column}) > 65535`);
			// …nor two vault names that differ only by case.
			await directus.db.execute(`delete from api_credentials where name <> 'upgrade'`);
			await directus.db.execute(`delete from platform_sessions where expires_at >= '2038-01-01'`);
			for (const [table, column] of [['platform_connections', 'encrypted_credentials'], ['download_credentials', 'encrypted_credentials'], ['platform_sessions', 'encrypted_cookies'], ['api_credentials', 'encrypted_key']])
				await directus.db.execute(`alter table ${table} modify ${column} text character set utf8mb4 collate utf8mb4_general_ci null`);
			await directus.db.execute(`alter table api_credentials modify identity varchar(255) character set utf8mb4 collate utf8mb4_general_ci null`);
			for (const column of ['captured_at', 'expires_at', 'revoked_at']) await directus.db.execute(`alter table platform_sessions modify ${column} timestamp null`);
			await directus.db.execute(`update directus_fields set special = null where collection = 'platform_sessions' and field in ('expires_at', 'revoked_at')`);
			await directus.db.execute(`update directus_fields set special = 'date-created' where collection = 'platform_sessions' and field = 'captured_at'`);
		}
		// Nor had they the indexes get-platform-session and create-profile read.
		for (const index of INDEXES) {
			expect(await indexColumns(index)).toEqual(index.columns);
			// InnoDB gave each foreign key its own index until ours, which lead with those columns, took them over.
			if (mysql()) await directus.db.execute(`create index ${index.table}_${index.columns[0]}_fk on ${index.table} (${index.columns[0]})`);
			await directus.db.execute(mysql() ? `drop index ${index.name} on ${index.table}` : `drop index ${index.name}`);
			expect(await indexColumns(index)).toEqual([]);
		}
		const setup = await directus.cli(['credentials', 'setup', '--json'], { LOG_LEVEL: 'error' });
		expect(setup.code, setup.stderr).toBe(0);
		const changes: string[] = JSON.parse(setup.stdout).changes;
		for (const index of INDEXES) {
			expect(changes).toContain(`created index ${index.name} on ${index.table} (${index.columns.join(', ')})`);
			expect(await indexColumns(index)).toEqual(index.columns);
		}
		if (mysql()) {
			expect(changes).toEqual(
				expect.arrayContaining([
					expect.stringMatching(/^changed platform_sessions\.encrypted_cookies: text utf8mb4_general_ci → \w*text utf8mb4_bin$/),
					expect.stringMatching(/^changed platform_sessions\.expires_at: timestamp → datetime/),
					expect.stringMatching(/^changed api_credentials\.identity/),
					'marked platform_sessions.expires_at as a timestamp stored in a DATETIME column',
				]),
			);
		} else expect(changes.filter((c) => /^(changed|marked)/.test(c))).toEqual([]);
		await directus.restart();

		expect((await asServer('reveal', { creatorProfileId: id })).body.credentials).toEqual({ before: 'upgrade' });
		const got = await asServer('get-platform-session', { creator_profile_id: id, platform: 'upgrade' });
		expect(got.body).toMatchObject({ cookies: [{ name: 'a', value: 'before', domain: '.x.com' }], expires_at: '2030-01-02T03:04:05.000Z' });
		expect((await api('POST', '/credentials/reveal-key', { body: { id: key.body.id }, headers: server() })).body.key).toBe('sk-before-upgrade');
		const late = await asUser('store-platform-session', { creator_profile_id: id, platform: 'upgrade', cookies: [{ name: 'a', value: 'after', domain: '.x.com' }], expires_at: '2099-01-01T00:00:00.000Z' });
		expect(late.status, late.text).toBe(200);
		expect((await asServer('get-platform-session', { creator_profile_id: id, platform: 'upgrade' })).body.expires_at).toBe('2099-01-01T00:00:00.000Z');
		const big = credentialsOf(200_000);
		expect((await asServer('store', { creatorProfileId: id, credentials: big })).status).toBe(200);
		expect((await asServer('reveal', { creatorProfileId: id })).body.credentials).toEqual(big);

		// A second run has nothing left to change.
		const again = await directus.cli(['credentials', 'setup', '--json'], { LOG_LEVEL: 'error' });
		expect(JSON.parse(again.stdout).changes).toEqual([]);
	});
});

describe('setup on several instances at once', () => {
	it('waits while another setup holds the lock (PostgreSQL: advisory lock, MariaDB/MySQL: GET_LOCK, SQLite: a lock file)', async () => {
		const kind = directus.db.kind;
		// One connection, so the lock is taken and released in the same session.
		const db = kind === 'sqlite' ? null : knexOf(directus, { min: 1, max: 1 });
		const lockFile = `${directus.db.env.DB_FILENAME}.credentials-setup.lock`;
		try {
			if (db) await db.raw(kind === 'mysql' ? `select get_lock(?, 5)` : 'select pg_advisory_lock(?)', [kind === 'mysql' ? LOCK_NAME : LOCK_ID]);
			else writeFileSync(lockFile, String(process.pid));
			let finished = false;
			const setup = directus.cli(['credentials', 'setup', '--json'], { LOG_LEVEL: 'error' }).then((out) => ((finished = true), out));
			// PostgreSQL and MariaDB show a session waiting for the lock; a SQLite setup just polls, so that one gets time (a setup alone takes about 5 s here).
			const waiting = kind === 'postgres' ? `select count(*) as n from pg_locks where locktype = 'advisory' and objid = ${LOCK_ID} and not granted` : `select count(*) as n from information_schema.processlist where info like 'select get_lock(%' and id <> connection_id()`;
			const deadline = Date.now() + 60_000;
			if (db) while (Number((await directus.db.query<{ n: number }>(waiting))[0]!.n) === 0 && Date.now() < deadline && !finished) await new Promise((r) => setTimeout(r, 100));
			await new Promise((r) => setTimeout(r, db ? 1_000 : 12_000));
			expect(finished).toBe(false);
			if (db) expect(Number((await directus.db.query<{ n: number }>(waiting))[0]!.n)).toBe(1);
			if (db) await db.raw(kind === 'mysql' ? `select release_lock(?)` : 'select pg_advisory_unlock(?)', [kind === 'mysql' ? LOCK_NAME : LOCK_ID]);
			else rmSync(lockFile);
			expect((await setup).code).toBe(0);
		} finally {
			await db?.destroy();
		}
	});

	it('three at once: the policies, the role and the permissions exist once', async () => {
		const admin = directus.adminToken;
		const ids = async (path: string, name: string) => (await api('GET', `${path}?filter[name][_eq]=${encodeURIComponent(name)}&fields=id`, { token: admin })).body.data.map((r: { id: string }) => r.id);
		for (const id of await ids('/roles', 'Credentials User')) expect((await api('DELETE', `/roles/${id}`, { token: admin })).status).toBe(204);
		for (const name of ['Credentials Owner', 'Credentials Studio'])
			for (const id of await ids('/policies', name)) expect((await api('DELETE', `/policies/${id}`, { token: admin })).status).toBe(204);

		const runs = await Promise.all([0, 1, 2].map(() => directus.cli(['credentials', 'setup', '--json'], { LOG_LEVEL: 'error' })));
		expect(runs.map((r) => r.code), runs.map((r) => r.stderr).join('\n')).toEqual([0, 0, 0]);
		const owner = await ids('/policies', 'Credentials Owner');
		expect(owner).toHaveLength(1);
		expect(await ids('/policies', 'Credentials Studio')).toHaveLength(1);
		expect(await ids('/roles', 'Credentials User')).toHaveLength(1);
		const permissions = await directus.db.query<{ collection: string; action: string; n: number }>(
			`select collection, action, count(*) as n from directus_permissions where policy = ? group by collection, action`,
			owner[0],
		);
		expect(permissions.length).toBe(5 * 4);
		expect(permissions.every((p) => Number(p.n) === 1)).toBe(true);
	});
});
