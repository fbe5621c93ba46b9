import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareAndSwap, statementSlices, type Change } from '../../src/lifecycle/compare-and-swap.js';
import { BATCH_BYTES, rowsWithin, scanColumn, walkColumn, type StoredRow, type Target } from '../../src/lifecycle/scan.js';
import { rewriteTargets } from '../../src/lifecycle/rewrite.js';
import { failureLog } from '../../src/lifecycle/failures.js';
import { makeKeyring, openStoredValue, sealValue } from '../../src/crypto/index.js';
import { sealWithBinding } from './helpers.js';

/**
 * The set-based compare-and-swap on a real SQLite file (PostgreSQL and MariaDB run the same
 * guarantees in the rotation integration test): rows that still hold what was read are written,
 * rows changed meanwhile are left as written, whatever order the walk took.
 */
describe('rowsWithin', () => {
	it('takes the longest prefix within the budget, and at least one value', () => {
		fc.assert(
			fc.property(fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 2000 }), (sizes, budget) => {
				const count = rowsWithin(sizes, budget);
				const sum = (n: number) => sizes.slice(0, n).reduce((a, b) => a + b, 0);
				expect(count).toBeGreaterThanOrEqual(1);
				if (count > 1) expect(sum(count)).toBeLessThanOrEqual(budget);
				if (count < sizes.length) expect(sum(count + 1)).toBeGreaterThan(budget);
			}),
		);
	});
});

describe('statementSlices', () => {
	const change = (size: number): Change => ({ pk: randomUUID(), old: 'o'.repeat(size), next: 'n'.repeat(size) });

	it('keeps every change, in order, in slices bounded by rows and by bytes (a larger value alone)', () => {
		fc.assert(
			fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 200 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 1000 }), (sizes, maxRows, maxBytes) => {
				const changes = sizes.map(change);
				const slices = statementSlices(changes, maxRows, maxBytes);
				expect(slices.flat()).toEqual(changes);
				for (const slice of slices) {
					expect(slice.length).toBeGreaterThan(0);
					expect(slice.length).toBeLessThanOrEqual(maxRows);
					const bytes = slice.reduce((n, c) => n + c.old.length + c.next.length, 0);
					if (slice.length > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
				}
			}),
		);
	});

	it('cuts a batch of 100 KB values into statements of 4 MiB at most', () => {
		const slices = statementSlices(Array.from({ length: 100 }, () => change(50 * 1024)));
		expect(slices.map((s) => s.length)).toEqual([40, 40, 20]);
	});
});

describe('compare-and-swap on SQLite', () => {
	let dir: string;
	let db: Knex;
	const target = (collection: string, pkType = 'uuid'): Target => ({ collection, field: 'v', pk: 'id', pkType, json: false });

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), 'creds-cas-'));
		db = knex({ client: 'sqlite3', connection: { filename: join(dir, 'data.db') }, useNullAsDefault: true });
		await db.raw('create table plain (id char(36) primary key, v text)');
		await db.raw('create table shadowed (id char(36) primary key, "_ROWID_" text, v text)');
		await db.raw('create table generated (id char(36) primary key, v text, _rowid_ text generated always as (v) virtual)');
		await db.raw('create table named_rowid (id char(36) primary key, rowid text, oid text, v text)');
		await db.raw('create table no_rowid (id char(36) primary key, v text) without rowid');
		await db.raw('create table numbered (id integer primary key, v text)');
	});
	afterAll(async () => {
		await db.destroy();
		rmSync(dir, { recursive: true, force: true });
	});

	it('walks a table by its rowid unless it has none or a column (generated too) is named _rowid_', async () => {
		expect(await walkColumn(db, target('plain'))).toBe('_rowid_');
		expect(await walkColumn(db, target('named_rowid'))).toBe('_rowid_');
		expect(await walkColumn(db, target('shadowed'))).toBe('id');
		expect(await walkColumn(db, target('generated'))).toBe('id');
		expect(await walkColumn(db, target('no_rowid'))).toBe('id');
	});

	async function fill(table: string, count: number, id: (i: number) => string | number = () => randomUUID()) {
		await db(table).delete();
		const rows = Array.from({ length: count }, (_, i) => ({ id: id(i), v: `old-${i}` }));
		// One transaction: a commit per insert would make large fills slow. 200 rows a statement: SQLite's compound select limit.
		await db.transaction(async (trx) => {
			for (let i = 0; i < rows.length; i += 200) await trx(table).insert(rows.slice(i, i + 200));
		});
		return rows;
	}

	async function readAll(t: Target, rows: number, bytes = BATCH_BYTES) {
		const read: StoredRow[] = [];
		for await (const batch of scanColumn(db, t, { rows, bytes })) read.push(...batch);
		return read;
	}

	it('reads batches bounded by bytes as well as rows: every row once, in order, a larger value alone', async () => {
		await db('plain').delete();
		const sizes = Array.from({ length: 300 }, (_, i) => [10, 3000, 20_000, 70_000][i % 4]! + i);
		const rows = sizes.map((size, i) => ({ id: randomUUID(), v: String(i % 10).repeat(size) }));
		for (let i = 0; i < rows.length; i += 20) await db('plain').insert(rows.slice(i, i + 20));
		const batches: StoredRow[][] = [];
		for await (const batch of scanColumn(db, target('plain'), { rows: 25, bytes: 60_000 })) batches.push(batch);
		expect(batches.flat().map((r) => r.pk)).toEqual(rows.map((r) => r.id));
		expect(batches.flat().map((r) => r.text)).toEqual(rows.map((r) => r.v));
		for (const batch of batches) {
			expect(batch.length).toBeLessThanOrEqual(25);
			if (batch.length > 1) expect(batch.reduce((n, r) => n + r.text!.length, 0)).toBeLessThanOrEqual(60_000);
		}
		// The 70 KB values are over the budget: each is a batch of its own.
		expect(batches.filter((b) => b.length === 1 && b[0]!.text!.length > 60_000)).toHaveLength(75);
	});

	it('reads back tens of thousands of larger values by key, a thousand keys a statement', async () => {
		const rows = await fill('plain', 100_000);
		// Batches of 100,000 rows and 400,000 bytes: a share of 4 bytes a row, so every 5–10-byte value is
		// read again by key, ~45,000 in the first batch (SQLite takes at most 32,766 parameters a statement).
		const read = await readAll(target('plain'), 100_000, 400_000);
		expect(read.map((r) => r.text)).toEqual(rows.map((r) => r.v));
	}, 60_000);

	it.each([
		['by rowid', 'plain'],
		['by key (a table without rowid)', 'no_rowid'],
	])('walks %s, every row once', async (_how, table) => {
		const rows = await fill(table, 523);
		const read = await readAll(target(table), 50);
		expect(read.map((r) => r.pk).sort()).toEqual(rows.map((r) => r.id).sort());
		if (table === 'plain') {
			// Insertion order is rowid order: the walk follows the table, not the random keys.
			expect(read.map((r) => r.pk)).toEqual(rows.map((r) => r.id));
			expect(read.every((r) => typeof r.rowid === 'number')).toBe(true);
		} else expect(read.every((r) => r.rowid === undefined)).toBe(true);
	});

	it.each([['plain'], ['no_rowid'], ['numbered'], ['shadowed'], ['named_rowid']])('on %s: writes every row still as read, several statements in one batch, and leaves a row changed meanwhile as it was written', async (table) => {
		const t = target(table, table === 'numbered' ? 'integer' : 'uuid');
		await fill(table, 2500, table === 'numbered' ? (i) => i + 1 : undefined);
		const read = await readAll(t, 5000);
		const changes: Change[] = read.map((r) => ({ pk: r.pk, rowid: r.rowid, old: r.text!, next: `new-${r.text}` }));
		// Another writer gets to two rows between our read and our write.
		const raced = [read[7]!.pk, read[2100]!.pk];
		for (const pk of raced) await db(table).where('id', pk).update({ v: 'written meanwhile' });

		expect(await compareAndSwap(db, t, changes)).toBe(2498);
		const after = new Map((await db(table).select('id', 'v')).map((r: { id: string | number; v: string }) => [r.id, r.v]));
		for (const pk of raced) expect(after.get(pk)).toBe('written meanwhile');
		for (const r of read.filter((r) => !raced.includes(r.pk))) expect(after.get(r.pk)).toBe(`new-${r.text}`);
		// Again with what is stored now: nothing matches the old text any more, nothing changes.
		expect(await compareAndSwap(db, t, changes)).toBe(0);
	});

	it('does not write a row whose rowid now holds another key', async () => {
		const [first] = await fill('plain', 3);
		const [read] = await readAll(target('plain'), 1);
		// The row is deleted and another takes its rowid with the same text: the key tells them apart.
		await db('plain').where('id', first!.id).delete();
		await db.raw('insert into plain (_rowid_, id, v) values (?, ?, ?)', [read!.rowid!, randomUUID(), read!.text]);
		expect(await compareAndSwap(db, target('plain'), [{ pk: read!.pk, rowid: read!.rowid, old: read!.text!, next: 'new' }])).toBe(0);
		expect((await db('plain').where('_rowid_', read!.rowid!).first()).v).toBe(read!.text);
	});

	it('on its single connection, reads the next batch before a write takes it, and rotates every row once', async () => {
		const [oldKey, newKey] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
		const ctx = (pk: string) => ({ collection: 'plain', field: 'v', pk });
		await db('plain').delete();
		const ids = Array.from({ length: 45 }, () => randomUUID());
		await db('plain').insert(ids.map((id, i) => ({ id, v: sealValue(makeKeyring(oldKey), { i }, ctx(id)) })));
		const order: string[] = [];
		// A batch's read is the walk's sized select; a write, an UPDATE.
		const log = (query: { sql: string }) => order.push(/^\s*update/i.test(query.sql) ? 'write' : /case when/i.test(query.sql) ? 'read' : 'other');
		db.on('query', log);
		const ring = makeKeyring(newKey, [oldKey]);
		const [report] = await rewriteTargets(db, ring, [target('plain')], failureLog(), { mode: 'rotate', batchSize: 10 }).finally(() => db.off('query', log));
		expect(report).toMatchObject({ scanned: 45, rewritten: 45, failed: 0, batches: 5 });
		// The field's wall time covers its phases, which overlap: at least the longest of them.
		expect(report!.durationMs).toBeGreaterThanOrEqual(Math.floor(Math.max(report!.timings.readMs, report!.timings.writeMs)));
		for (const row of await db('plain').select('id', 'v')) {
			const opened = openStoredValue(ring, row.v, ctx(row.id));
			expect(opened).toMatchObject({ value: { i: ids.indexOf(row.id) }, outdated: false });
		}
		// Batch 2 is read before batch 1's UPDATE (and sealed while it runs), not queued behind it.
		const reads = order.flatMap((kind, at) => (kind === 'read' ? [at] : []));
		expect(order.filter((kind) => kind === 'write')).toHaveLength(5);
		expect(reads[1]).toBeLessThan(order.indexOf('write'));
	});

	it("rotate re-seals a previous key's value and a current one bound the old way, and leaves a value in today's form byte for byte", async () => {
		const [oldKey, newKey] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
		const ring = makeKeyring(newKey, [oldKey]);
		const ctx = (pk: string) => ({ collection: 'plain', field: 'v', pk });
		await db('plain').delete();
		const [previous, oldBinding, current] = [randomUUID(), randomUUID(), randomUUID()];
		const today = sealValue(ring, { p: 'current' }, ctx(current));
		await db('plain').insert([
			{ id: previous, v: sealValue(makeKeyring(oldKey), { p: 'previous' }, ctx(previous)) },
			{ id: oldBinding, v: sealWithBinding(newKey, { p: 'old binding' }, ctx(oldBinding), oldBinding.toUpperCase()) },
			{ id: current, v: today },
		]);
		const [report] = await rewriteTargets(db, ring, [target('plain')], failureLog(), { mode: 'rotate' });
		expect(report).toMatchObject({ scanned: 3, rewritten: 2, failed: 0 });
		const stored = new Map((await db('plain').select('id', 'v')).map((r: { id: string; v: string }) => [r.id, r.v]));
		expect(stored.get(current)).toBe(today);
		expect(openStoredValue(ring, stored.get(previous), ctx(previous))).toEqual({ value: { p: 'previous' }, outdated: false, earlierBinding: false });
		expect(openStoredValue(ring, stored.get(oldBinding), ctx(oldBinding))).toEqual({ value: { p: 'old binding' }, outdated: false, earlierBinding: false });
	});

	it('on its single connection, a read that fails still lets the batch sealed before it be written', async () => {
		const [oldKey, newKey] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
		const ctx = (pk: string) => ({ collection: 'plain', field: 'v', pk });
		await db('plain').delete();
		const ids = Array.from({ length: 30 }, () => randomUUID());
		await db('plain').insert(ids.map((id) => ({ id, v: sealValue(makeKeyring(oldKey), { id }, ctx(id)) })));
		// The second batch's read fails (the walk's sized select, the second time it runs).
		let scans = 0;
		const failing = new Proxy(db, {
			apply(knexFn, self, args) {
				const builder = Reflect.apply(knexFn, self, args) as Knex.QueryBuilder;
				const then = builder.then.bind(builder);
				builder.then = ((ok: never, ko: never) =>
					(/case when/i.test(builder.toString()) && ++scans === 2 ? Promise.reject(new Error('read failed')) : then()).then(ok, ko)) as never;
				return builder;
			},
		});
		const ring = makeKeyring(newKey, [oldKey]);
		await expect(rewriteTargets(failing, ring, [target('plain')], failureLog(), { mode: 'rotate', batchSize: 10 })).rejects.toThrow('read failed');
		const rows = await db('plain').select('id', 'v').orderBy('_rowid_');
		const outdated = rows.map((row) => openStoredValue(ring, row.v, ctx(row.id)).outdated);
		expect(outdated).toEqual([...Array(10).fill(false), ...Array(20).fill(true)]);
	});

	it('with a pool, keeps two writes in flight; a write that failed stops the run before another batch is written', async () => {
		const [oldKey, newKey] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
		const ctx = (pk: string) => ({ collection: 'plain', field: 'v', pk });
		const ring = makeKeyring(newKey, [oldKey]);
		const outdated = async () => (await db('plain').select('id', 'v').orderBy('_rowid_')).map((row) => openStoredValue(ring, row.v, ctx(row.id)).outdated);
		const seed = async () => {
			await db('plain').delete();
			const ids = Array.from({ length: 40 }, () => randomUUID());
			await db('plain').insert(ids.map((id) => ({ id, v: sealValue(makeKeyring(oldKey), { id }, ctx(id)) })));
		};
		const pooled = knex({ client: 'sqlite3', connection: { filename: join(dir, 'data.db') }, pool: { min: 1, max: 2 }, useNullAsDefault: true });
		/** The pool with its transactions watched: how many ran at once at most, and the first one failing at once when asked. */
		const watch = (failFirst: boolean) => {
			const seen = { transactions: 0, inFlight: 0, most: 0 };
			const watched = new Proxy(pooled, {
				get(knexFn, prop, receiver) {
					if (prop !== 'transaction') return Reflect.get(knexFn, prop, receiver);
					return async (work: (trx: Knex.Transaction) => Promise<number>) => {
						seen.transactions++;
						if (failFirst && seen.transactions === 1) throw new Error('write failed');
						seen.most = Math.max(seen.most, ++seen.inFlight);
						try {
							// Each write takes a while, so the next batch is read and sealed, and its write started, meanwhile.
							await new Promise((resolve) => setTimeout(resolve, 50));
							return await knexFn.transaction(work);
						} finally {
							seen.inFlight--;
						}
					};
				},
			});
			return { watched, seen };
		};
		try {
			await seed();
			const smooth = watch(false);
			const [report] = await rewriteTargets(smooth.watched, ring, [target('plain')], failureLog(), { mode: 'rotate', batchSize: 10 });
			expect(report).toMatchObject({ scanned: 40, rewritten: 40, failed: 0, batches: 4 });
			expect(smooth.seen.most).toBe(2);
			expect(await outdated()).toEqual(Array(40).fill(false));

			await seed();
			const failing = watch(true);
			await expect(rewriteTargets(failing.watched, ring, [target('plain')], failureLog(), { mode: 'rotate', batchSize: 10 })).rejects.toThrow('write failed');
			// The first write failed while the second batch was read: that batch was not written after it.
			expect(failing.seen.transactions).toBe(1);
			expect(await outdated()).toEqual(Array(40).fill(true));
		} finally {
			await pooled.destroy();
		}
	});
});
