import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyId, makeKeyring, openStored, sealValue } from '../../src/crypto/index.js';
import { newKeyB64, type Instance } from '../../tools/harness/directus.js';
import { useDirectus } from './fixture.js';

/**
 * The set-based rotate (one UPDATE joined to a batch's rows per statement) keeps the guarantees of
 * the row-by-row one it replaced: a process killed in the middle of a statement loses nothing, and
 * a writer that gets to a row between rotate's read and its write is never overwritten.
 */
const suite = useDirectus();
let directus: Instance;
const ROWS = 2000;
/** Four batches: one is written while the next is read and sealed. */
const BATCH = 500;
const COLUMN = { collection: 'platform_connections', field: 'encrypted_credentials' } as const;
/** id → the value each row must open to. */
const expected = new Map<string, unknown>();
const keys = { A: '', B: newKeyB64(), C: newKeyB64(), D: newKeyB64() };
const kid = (b64: string) => keyId(Buffer.from(b64, 'base64'));
const ringOf = (current: string, ...previous: string[]) => makeKeyring(Buffer.from(current, 'base64'), previous.map((k) => Buffer.from(k, 'base64')));
const json = (out: { stdout: string }) => JSON.parse(out.stdout.trim().split('\n').pop()!);
const kind = () => directus.db.kind;

const stored = () => directus.db.query<{ id: string; v: string }>(`select id, encrypted_credentials as v from platform_connections where platform = 'rot'`);
const rowsUnder = async (b64: string) => (await stored()).filter((r) => r.v.startsWith(`cred:v2:${kid(b64)}:`)).length;

/** Every row opens, under the keys given, to the value it must hold. */
async function expectIntact(current: string, ...previous: string[]) {
	const ring = ringOf(current, ...previous);
	const rows = await stored();
	expect(rows).toHaveLength(ROWS);
	const wrong = rows.filter((r) => JSON.stringify(openStored(ring, r.v, { ...COLUMN, pk: r.id })) !== JSON.stringify(expected.get(r.id)));
	expect(wrong.map((r) => r.id)).toEqual([]);
}

async function until(what: string, condition: () => Promise<boolean> | boolean, ms = 30_000) {
	const deadline = Date.now() + ms;
	while (!(await condition())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the database's sessions:\n${await sessions()}`);
		await new Promise((r) => setTimeout(r, 10));
	}
}

/** How many sessions of this database run rotate's UPDATE (waiting for a row lock, with `waiting`). */
async function updatesRunning(waiting = false): Promise<number> {
	if (kind() === 'postgres') {
		const [row] = await directus.db.query<{ n: number }>(
			`select count(*) as n from pg_stat_activity where datname = current_database() and query like 'update "platform_connections"%' and state = 'active'${waiting ? ` and wait_event_type = 'Lock'` : ''}`,
		);
		return Number(row!.n);
	}
	// MariaDB's processlist shows only the start of a long statement (rotate's is the one UPDATE that starts with its
	// batch), and information_schema.innodb_trx leaves out a transaction waiting with many locks: InnoDB's own status tells.
	if (waiting) {
		const [status] = await directus.db.query<{ Status: string }>('show engine innodb status');
		return status!.Status.split('---TRANSACTION').filter((trx) => trx.includes('LOCK WAIT') && trx.includes('update (select')).length;
	}
	// While a trigger runs, the processlist shows the trigger's statement instead: slowUpdates' sleep means the UPDATE runs.
	const [row] = await directus.db.query<{ n: number }>(
		`select count(*) as n from information_schema.processlist where db = database() and (info like 'update (select %' or info like 'do sleep(%')`,
	);
	return Number(row!.n);
}
const updateRunning = async (waiting = false) => (await updatesRunning(waiting)) > 0;

/** What each session of the database is doing (the start of its statement), to say why a wait timed out. */
async function sessions(): Promise<string> {
	if (kind() === 'sqlite') return '(SQLite has no sessions to list)';
	const rows =
		kind() === 'postgres'
			? await directus.db.query(`select pid, state, wait_event_type, left(query, 60) as query from pg_stat_activity where datname = current_database()`)
			: await directus.db.query(`select id, command, state, time, left(info, 60) as query from information_schema.processlist where db = database()`);
	return rows.map((r) => JSON.stringify(r)).join('\n');
}

/** Makes every UPDATE of platform_connections slow (a few ms a row), so a statement of a thousand rows lasts seconds. */
async function slowUpdates(on: boolean) {
	const db = directus.db;
	if (kind() === 'sqlite') {
		// No sleep in SQLite, and no WITH inside a trigger: hex-encoding a megabyte of random bytes takes ~2 ms.
		await db.execute(on ? `create trigger cred_test_slow before update on platform_connections begin select length(hex(randomblob(1000000))); end` : 'drop trigger cred_test_slow');
	} else if (kind() === 'postgres') {
		if (on) {
			await db.execute(`create function cred_test_slow() returns trigger language plpgsql as $$ begin perform pg_sleep(0.002); return new; end $$`);
			await db.execute(`create trigger cred_test_slow before update on platform_connections for each row execute function cred_test_slow()`);
		} else {
			await db.execute('drop trigger cred_test_slow on platform_connections');
			await db.execute('drop function cred_test_slow');
		}
	} else await db.execute(on ? `create trigger cred_test_slow before update on platform_connections for each row do sleep(0.002)` : 'drop trigger cred_test_slow');
}

beforeAll(async () => {
	directus = suite.directus;
	keys.A = directus.env.CREDENTIALS_ENC_KEY_B64!;
	const ring = ringOf(keys.A);
	const rows = Array.from({ length: ROWS }, (_, i) => {
		const id = randomUUID();
		const value = { token: `original-${i}`, i };
		expected.set(id, value);
		return { id, platform: 'rot', platform_username: `rot-${i}`, encrypted_credentials: sealValue(ring, value, { ...COLUMN, pk: id }) };
	});
	await directus.db.insertMany('platform_connections', rows);
	await directus.restart({ CREDENTIALS_ENC_KEY_B64: keys.B, CREDENTIALS_ENC_PREVIOUS_KEYS_B64: keys.A });
}, 600_000);

describe('set-based rotate', () => {
	// SQLite locks the whole database for a write, so no writer can sit on one row while rotate waits
	// for it; the unit test (compare-and-swap.test.ts) races a write between read and write on a real
	// SQLite file instead, through the same statements.
	const rowLocks = process.env.HARNESS_DB === 'postgres' || process.env.HARNESS_DB === 'mysql';
	if (rowLocks)
		it('never overwrites a writer that got to a row between its read and its write',
		async () => {
			// A row of the third batch (PostgreSQL and MariaDB walk in key order): two batches are written before it.
			const raced = [...expected.keys()].sort()[1200]!;
			const written = { token: 'written meanwhile' };
			// The writer: its new value is in, not yet committed, and its row locked.
			const writer = await directus.db.hold();
			await writer.execute('update platform_connections set encrypted_credentials = ? where id = ?', sealValue(ringOf(keys.B), written, { ...COLUMN, pk: raced }), raced);
			const rotate = directus.cli(['credentials', 'rotate', '--json', '--batch-size', String(BATCH)]);
			try {
				// Rotate has read the row as it was and now waits for the writer's lock to write it back.
				await until('rotate to wait for the row lock', () => updateRunning(true));
			} finally {
				await writer.commit();
			}
			const out = await rotate;
			expect(out.code, out.stderr).toBe(0);
			expect(json(out)).toMatchObject({ ok: true, rewritten: ROWS - 1 });
			expect(json(out).fields).toContainEqual(expect.objectContaining({ field: 'platform_connections.encrypted_credentials', rewritten: ROWS - 1, changedConcurrently: 1 }));
			expected.set(raced, written);
			expect(await rowsUnder(keys.B)).toBe(ROWS);
			await expectIntact(keys.B);
		});

	it('loses nothing when killed with SIGKILL in the middle of a statement, and a second run finishes', async () => {
		// Everything is to be rotated again, to C; every UPDATE now takes seconds.
		await directus.restart({ CREDENTIALS_ENC_KEY_B64: keys.C, CREDENTIALS_ENC_PREVIOUS_KEYS_B64: `${keys.B},${keys.A}` });
		await slowUpdates(true);
		const journal = `${directus.env.DB_FILENAME}-journal`;
		// The server writes too (its start-up key check, its key-reader reports every few seconds), and on SQLite any
		// writer makes a journal: with the server stopped, the journal seen below can only be rotate's.
		if (kind() === 'sqlite') await directus.pause();
		const killed = directus.spawnCli(['credentials', 'rotate', '--batch-size', String(BATCH)]);
		const exited = new Promise((r) => killed.once('exit', r));
		// In flight: SQLite has a rollback journal while a write transaction is open; the others show the statements
		// running, two batches at once on two connections (rotate keeps two writes in flight where it has a pool).
		await until('rotate to be in the middle of its UPDATE', async () => {
			if (killed.exitCode !== null) throw new Error(`rotate ended (exit ${killed.exitCode}) before it was seen writing:\n${directus.log().split('\n').slice(-30).join('\n')}`);
			return kind() === 'sqlite' ? existsSync(journal) : (await updatesRunning()) >= 2;
		});
		await new Promise((r) => setTimeout(r, 300));
		killed.kill('SIGKILL');
		await exited;
		if (kind() === 'sqlite') expect(existsSync(journal), 'a hot journal: the kill interrupted a write transaction').toBe(true);
		// PostgreSQL and MariaDB finish the statement, find the client gone and roll back.
		else await until('the killed session to end', async () => !(await updateRunning()));

		// Whole batches only: those committed before the kill, none of those it interrupted.
		const midway = await rowsUnder(keys.C);
		expect(midway % BATCH).toBe(0);
		expect(midway).toBeLessThan(ROWS);
		await expectIntact(keys.C, keys.B, keys.A);

		await slowUpdates(false);
		const again = await directus.cli(['credentials', 'rotate', '--json']);
		expect(again.code, again.stderr).toBe(0);
		expect(json(again)).toMatchObject({ ok: true, rewritten: ROWS - midway, failed: 0 });
		expect(await rowsUnder(keys.C)).toBe(ROWS);
		await expectIntact(keys.C);
	});

	it('reads batches bounded by bytes as well as rows, every row once', async () => {
		await directus.restart({ CREDENTIALS_ENC_KEY_B64: keys.D, CREDENTIALS_ENC_PREVIOUS_KEYS_B64: keys.C });
		const sizes = (await stored()).map((r) => Buffer.byteLength(r.v));
		const total = sizes.reduce((a, b) => a + b, 0);
		const BUDGET = 4096;
		const out = await directus.cli(['credentials', 'rotate', '--json', '--batch-bytes', String(BUDGET)]);
		expect(out.code, out.stderr).toBe(0);
		expect(json(out)).toMatchObject({ ok: true, rewritten: ROWS, failed: 0 });
		// Batches of ~30 envelopes, not 500: no fewer than the budget allows, no more than a full budget less one envelope each.
		const { batches } = json(out).fields.find((f: { field: string }) => f.field === 'platform_connections.encrypted_credentials');
		expect(batches).toBeGreaterThanOrEqual(Math.ceil(total / BUDGET));
		expect(batches).toBeLessThanOrEqual(Math.ceil(total / (BUDGET - Math.max(...sizes))) + 1);
		expect(await rowsUnder(keys.D)).toBe(ROWS);
		await expectIntact(keys.D);
		const refused = await directus.cli(['credentials', 'rotate', '--batch-bytes', '0']);
		expect(refused.code).not.toBe(0);
		expect(refused.stderr + refused.stdout).toContain('--batch-bytes must be a whole number from 1 to 1073741824');
	});
});
