import type { Knex } from 'knex';
import { classifyStored, columnForm, DecryptError, earlierBindings, openEnvelopeBytes, openStoredValue, openStoredValueAsync, sealForColumn, sealPlaintext, type Keyring } from '../crypto/index.js';
import type { FailureLog } from './failures.js';
import { directusSecretFor } from '../schema/protected-fields.js';
import type { Progress } from './inventory.js';
import { compareAndSwap, type Change } from './compare-and-swap.js';
import { BATCH_BYTES, countRows, directusEncryptedOnly, scanColumn, storedValue, type StoredRow, type Target } from './scan.js';

/**
 * rotate: every value not in today's form (previous keys, legacy formats, bound to an earlier
 * spelling of its row's key) is re-sealed, bound to the canonical key.
 * encrypt-existing: every plaintext value in a protected column is sealed.
 * adopt-encrypt-special: every value Directus's `encrypt` special wrote is opened with Directus's
 * SECRET and sealed (rotate does the same to those it meets).
 * decrypt-field: every sealed value is opened and stored as plaintext — the one exception to "plaintext
 * is never stored", for a field its admin has un-protected (decrypt-field in the CLI).
 *
 * Each batch is one transaction of compare-and-swap updates (see compareAndSwap): a value a live
 * server changed meanwhile is left alone (it was written under the current key anyway). Killed at
 * any point, finished batches are kept and the rest is still to do; running again picks up what
 * is left. Two runs at once cannot overwrite each other.
 */
export type RewriteMode = 'rotate' | 'encrypt-existing' | 'adopt-encrypt-special' | 'decrypt-field';

export interface RewriteReport {
	field: string;
	scanned: number;
	/** Rewritten (or, with --dry-run, that would be). */
	rewritten: number;
	/** Changed by someone else between our read and our write; left as they wrote it. */
	changedConcurrently: number;
	failed: number;
	/** Batches read (each bounded by --batch-size rows and --batch-bytes of stored text). */
	batches: number;
	/** Where the time went, in milliseconds: reading batches, opening and sealing, writing them back (a write overlaps the next batch's read and sealing). */
	timings: { readMs: number; cryptoMs: number; writeMs: number };
	/** Wall time for this field, from its first read to its last write. */
	durationMs: number;
}

/** What to write for one value: a plaintext to seal (or store), an envelope already sealed, nothing, or a value of Directus's special to open first. */
type Plan = { plain: unknown } | { envelope: string } | { skip: true } | { directus: string };

function planValue(mode: RewriteMode, ring: Keyring, target: Target, pk: string | number, value: unknown): Plan {
	const stored = classifyStored(value);
	if (mode === 'decrypt-field') {
		if (stored.format === 'empty' || stored.format === 'plaintext') return { skip: true };
		if (stored.format === 'directus-encrypt') return { directus: stored.sealed! };
		return { plain: openStoredValue(ring, value, { collection: target.collection, field: target.field, pk }, stored).value };
	}
	if (mode === 'encrypt-existing') {
		// A JSON column's plaintext is the JSON value itself; a text column's is its string.
		return stored.format === 'plaintext' ? { plain: value } : { skip: true };
	}
	// Opened asynchronously, a batch's values at once (one scrypt derivation each, on libuv's threads).
	if (stored.format === 'directus-encrypt') return { directus: stored.sealed! };
	if (mode === 'adopt-encrypt-special' || stored.format === 'empty' || stored.format === 'plaintext') return { skip: true };
	const ctx = { collection: target.collection, field: target.field, pk };
	if (stored.format === 'v2' && stored.parsed) {
		// A current value under a key with a single spelling is known current without decrypting it; a UUID key's binding is only known by opening.
		if (stored.keyId === ring.current.id && earlierBindings(pk).length === 0) return { skip: true };
		// Re-sealed as the bytes it holds: its JSON is not parsed and written out again.
		const opened = openEnvelopeBytes(ring, stored.parsed, ctx);
		return opened.canonical && stored.keyId === ring.current.id ? { skip: true } : { envelope: sealPlaintext(ring, opened.plain, ctx) };
	}
	// Legacy formats (and a broken envelope, which fails here).
	const opened = openStoredValue(ring, value, ctx, stored);
	return opened.outdated ? { plain: opened.value } : { skip: true };
}

const columnText = (sealed: string | { enc: string }) => (typeof sealed === 'string' ? sealed : JSON.stringify(sealed));
/** What a column stores for an opened value: a JSON column its JSON, a text column the string (anything else as JSON, as Directus stores it). */
const plainText = (plain: unknown, json: boolean) => (json || typeof plain !== 'string' ? JSON.stringify(plain) : plain);

/** Opens and re-seals one batch: what to write back. Undecryptable rows are counted and reported, never written. */
async function planBatch(mode: RewriteMode, ring: Keyring, target: Target, batch: StoredRow[], report: RewriteReport, failures: FailureLog, secret: string | null): Promise<Change[]> {
	const changes: Change[] = [];
	const fail = (row: StoredRow, error: unknown) => {
		report.failed++;
		failures.add({ collection: target.collection, field: target.field, id: row.pk, reason: error instanceof DecryptError ? `${error.reason}: ${error.message}` : 'unexpected error' });
	};
	const push = (row: StoredRow & { text: string }, next: string) => void changes.push({ pk: row.pk, rowid: row.rowid, old: row.text, next });
	const reseal = (row: StoredRow & { text: string }, plain: unknown) =>
		push(row, mode === 'decrypt-field' ? plainText(plain, target.json) : columnText(sealForColumn(ring, plain, { collection: target.collection, field: target.field, pk: row.pk }, target.json)));
	const pending: Promise<void>[] = [];
	for (const row of batch) {
		report.scanned++;
		if (row.text === null) continue;
		const text = { ...row, text: row.text };
		try {
			const plan = planValue(mode, ring, target, row.pk, storedValue(target, row.text));
			if ('directus' in plan) {
				const ctx = { collection: target.collection, field: target.field, pk: row.pk };
				pending.push(
					openStoredValueAsync(ring, plan.directus, ctx, secret)
						.then((opened) => reseal(text, opened.value))
						.catch((error: unknown) => fail(row, error)),
				);
			} else if ('plain' in plan) reseal(text, plan.plain);
			else if ('envelope' in plan) push(text, columnText(columnForm(plan.envelope, target.json)));
		} catch (error) {
			fail(row, error);
		}
	}
	await Promise.all(pending);
	return changes;
}

/** Batches written at once on a database with a connection pool: one more connection's worth of the database's cores. */
const WRITES_IN_FLIGHT = 2;

/** Rows sealed between two turns of the event loop: a write in flight gets its next statement sent meanwhile. */
const PLAN_SLICE = 100;

/** Opens and re-seals a batch slice by slice; adds the time spent sealing (not the turns between) to the report. */
async function planInSlices(mode: RewriteMode, ring: Keyring, target: Target, batch: StoredRow[], report: RewriteReport, failures: FailureLog, secret: string | null): Promise<Change[]> {
	const changes: Change[] = [];
	for (let start = 0; start < batch.length; start += PLAN_SLICE) {
		if (start > 0) await new Promise((resolve) => setImmediate(resolve));
		const started = performance.now();
		changes.push(...(await planBatch(mode, ring, target, batch.slice(start, start + PLAN_SLICE), report, failures, secret)));
		report.timings.cryptoMs += performance.now() - started;
	}
	return changes;
}

export async function rewriteTargets(
	db: Knex,
	ring: Keyring,
	targets: Target[],
	failures: FailureLog,
	options: { mode: RewriteMode; dryRun?: boolean; batchSize?: number; batchBytes?: number; onProgress?: Progress; directusSecret?: string | null },
) {
	// Batches are written while the next is read and sealed (below). PostgreSQL and MariaDB write on cores of their own:
	// two writes in flight, on two connections. SQLite's single connection (or any pool of one) writes one at a time, off
	// the main thread. By default the batches held at once share one byte budget, so memory stays what one batch took.
	const single = (db.client.pool?.max ?? 1) <= 1;
	const writesInFlight = single ? 1 : WRITES_IN_FLIGHT;
	const limit = { rows: options.batchSize ?? 500, bytes: options.batchBytes ?? Math.floor(BATCH_BYTES / (writesInFlight + 1)) };
	const total = (await Promise.all(targets.map((t) => countRows(db, t)))).reduce((a, b) => a + b, 0);
	let done = 0;
	const reports: RewriteReport[] = [];
	for (const target of targets) {
		const report: RewriteReport = { field: `${target.collection}.${target.field}`, scanned: 0, rewritten: 0, changedConcurrently: 0, failed: 0, batches: 0, timings: { readMs: 0, cryptoMs: 0, writeMs: 0 }, durationMs: 0 };
		const fieldStarted = performance.now();
		const write = async (changes: Change[], rows: number) => {
			const started = performance.now();
			if (options.dryRun) report.rewritten += changes.length;
			else if (changes.length > 0) {
				const changed = await compareAndSwap(db, target, changes);
				report.rewritten += changed;
				report.changedConcurrently += changes.length - changed;
			}
			report.timings.writeMs += performance.now() - started;
			done += rows;
			options.onProgress?.(Math.min(done, total), total);
		};
		// Adopting reads only the values Directus's special wrote (the database compares the prefix).
		const secret = directusSecretFor(target, options.directusSecret ?? null);
		const only = options.mode === 'adopt-encrypt-special' ? directusEncryptedOnly(db, target.field) : undefined;
		const batches = scanColumn(db, target, limit, only)[Symbol.asyncIterator]();
		const read = async () => {
			const started = performance.now();
			const next = await batches.next();
			report.timings.readMs += performance.now() - started;
			if (next.done) return null;
			report.batches++;
			return next.value;
		};
		const plan = (rows: StoredRow[]) => planInSlices(options.mode, ring, target, rows, report, failures, secret);
		const writing: Promise<void>[] = [];
		let failed: { error: unknown } | undefined;
		try {
			let rows = await read();
			let changes = rows ? await plan(rows) : [];
			while (rows) {
				let following: StoredRow[] | null = null;
				if (single) {
					try {
						// Read before the write takes the connection; sealed while SQLite writes on its own thread.
						following = await read();
					} catch (error) {
						// The batch already sealed is still written, as it would have been had reads come after writes.
						await write(changes, rows.length);
						throw error;
					}
				}
				// A write that failed meanwhile ends the run here: no further batch is started after it.
				if (failed) throw failed.error;
				const started = write(changes, rows.length);
				// Awaited below; until then a failure must not count as unhandled.
				started.catch((error: unknown) => (failed ??= { error }));
				writing.push(started);
				if (!single) following = await read();
				const followingChanges = following ? await plan(following) : [];
				// The oldest write settles (or fails the run) before another starts.
				if (writing.length >= writesInFlight) await writing.shift();
				[rows, changes] = [following, followingChanges];
			}
			await Promise.all(writing);
		} finally {
			// A read or write that failed while others were in flight: they finish (or fail) before the error goes up.
			await Promise.allSettled(writing);
		}
		report.durationMs = Math.round(performance.now() - fieldStarted);
		reports.push(report);
	}
	return reports;
}
