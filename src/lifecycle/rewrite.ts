import type { Knex } from 'knex';
import { dialectOf } from '../lib/dialect.js';
import { classifyStored, DecryptError, earlierBindings, openStoredValue, sealForColumn, type Keyring } from '../crypto/index.js';
import type { FailureLog } from './failures.js';
import type { Progress } from './inventory.js';
import { countRows, scanColumn, storedValue, textEquals, type Target } from './scan.js';

/**
 * rotate: every value not in today's form (previous keys, legacy formats, bound to an earlier
 * spelling of its row's key) is re-sealed, bound to the canonical key.
 * encrypt-existing: every plaintext value in a protected column is sealed.
 *
 * Each batch is one transaction of compare-and-swap updates (`… WHERE pk = ? AND column = <the
 * text we read>`): a value a live server changed meanwhile is left alone (it was written under
 * the current key anyway). Killed at any point, finished batches are kept and the rest is still
 * to do; running again picks up what is left. Two runs at once cannot overwrite each other.
 */
export type RewriteMode = 'rotate' | 'encrypt-existing';

export interface RewriteReport {
	field: string;
	scanned: number;
	/** Rewritten (or, with --dry-run, that would be). */
	rewritten: number;
	/** Changed by someone else between our read and our write; left as they wrote it. */
	changedConcurrently: number;
	failed: number;
}

function planValue(mode: RewriteMode, ring: Keyring, target: Target, pk: string | number, value: unknown): { plain: unknown } | { skip: true } {
	const stored = classifyStored(value);
	if (mode === 'encrypt-existing') {
		// A JSON column's plaintext is the JSON value itself; a text column's is its string.
		return stored.format === 'plaintext' ? { plain: value } : { skip: true };
	}
	if (stored.format === 'empty' || stored.format === 'plaintext') return { skip: true };
	// A current value under a key with a single spelling is known current without decrypting it; a UUID key's binding is only known by opening.
	if (stored.format === 'v2' && stored.keyId === ring.current.id && earlierBindings(pk).length === 0) return { skip: true };
	const opened = openStoredValue(ring, value, { collection: target.collection, field: target.field, pk });
	return opened.outdated ? { plain: opened.value } : { skip: true };
}

interface Change {
	pk: string | number;
	old: string;
	next: string;
}

/**
 * One batch, one transaction. SQLite and PostgreSQL get a single UPDATE … FROM (the batch) … RETURNING
 * statement — each row still only changes when its text is the one we read; other databases get one
 * compare-and-swap UPDATE per row. Returns how many rows changed.
 */
async function compareAndSwap(db: Knex, target: Target, changes: Change[]): Promise<number> {
	const dialect = dialectOf(db);
	if (dialect === 'sqlite' || dialect === 'postgres') {
		const pg = dialect === 'postgres';
		const pkMatch = pg ? `t.?? = cast(v.cred_pk as ${pgType(target)})` : 't.?? = v.cred_pk';
		const next = pg && target.json ? 'cast(v.cred_next as json)' : 'v.cred_next';
		return db.transaction(async (trx) => {
			let changed = 0;
			// SQLite allows at most 500 terms in a compound SELECT: a batch goes in slices of 400.
			for (let i = 0; i < changes.length; i += 400) {
				const slice = changes.slice(i, i + 400);
				const rows = slice.map((_, j) => (j === 0 ? 'select ? as cred_pk, ? as cred_old, ? as cred_next' : 'select ?, ?, ?')).join(' union all ');
				const sql = `update ?? as t set ?? = ${next} from (${rows}) as v where ${pkMatch} and cast(t.?? as text) = v.cred_old returning ??`;
				const bindings = [target.collection, target.field, ...slice.flatMap((c) => [String(c.pk), c.old, c.next]), target.pk, target.field, target.pk];
				const result = await trx.raw(sql, bindings);
				changed += Array.isArray(result) ? result.length : Number((result as { rowCount?: number }).rowCount ?? 0);
			}
			return changed;
		});
	}
	let changed = 0;
	await db.transaction(async (trx) => {
		for (const change of changes) {
			const updated = await trx(target.collection).where(target.pk, change.pk).andWhere(textEquals(trx, target.field, change.old)).update({ [target.field]: change.next });
			changed += Number(updated) === 1 ? 1 : 0;
		}
	});
	return changed;
}

/** The primary key's column type on PostgreSQL, for casting the batch's text keys back. */
const pgType = (target: Target) => (target.pkType === 'uuid' ? 'uuid' : target.pkType === 'integer' || target.pkType === 'bigInteger' ? 'bigint' : 'text');

const columnText = (sealed: string | { enc: string }) => (typeof sealed === 'string' ? sealed : JSON.stringify(sealed));

export async function rewriteTargets(
	db: Knex,
	ring: Keyring,
	targets: Target[],
	failures: FailureLog,
	options: { mode: RewriteMode; dryRun?: boolean; batchSize?: number; onProgress?: Progress },
) {
	const batchSize = options.batchSize ?? 500;
	const total = (await Promise.all(targets.map((t) => countRows(db, t)))).reduce((a, b) => a + b, 0);
	let done = 0;
	const reports: RewriteReport[] = [];
	for (const target of targets) {
		const report: RewriteReport = { field: `${target.collection}.${target.field}`, scanned: 0, rewritten: 0, changedConcurrently: 0, failed: 0 };
		for await (const batch of scanColumn(db, target, batchSize)) {
			const changes: { pk: string | number; old: string; next: string }[] = [];
			for (const row of batch) {
				report.scanned++;
				if (row.text === null) continue;
				try {
					const plan = planValue(options.mode, ring, target, row.pk, storedValue(target, row.text));
					if ('skip' in plan) continue;
					const sealed = sealForColumn(ring, plan.plain, { collection: target.collection, field: target.field, pk: row.pk }, target.json);
					changes.push({ pk: row.pk, old: row.text, next: columnText(sealed) });
				} catch (error) {
					// Undecryptable: left exactly as it is, reported, never overwritten.
					report.failed++;
					failures.add({ collection: target.collection, field: target.field, id: row.pk, reason: error instanceof DecryptError ? `${error.reason}: ${error.message}` : 'unexpected error' });
				}
			}
			if (options.dryRun) report.rewritten += changes.length;
			else if (changes.length > 0) {
				const changed = await compareAndSwap(db, target, changes);
				report.rewritten += changed;
				report.changedConcurrently += changes.length - changed;
			}
			done += batch.length;
			options.onProgress?.(Math.min(done, total), total);
		}
		reports.push(report);
	}
	return reports;
}
