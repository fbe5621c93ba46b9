import type { Knex } from 'knex';
import { dialectOf } from '../lib/dialect.js';
import { binaryTextOf, ROWID, rowsWithin, textEquals, type Target } from './scan.js';

/** One value to replace: the row, the exact text we read from it, and what to write instead. */
export interface Change {
	pk: string | number;
	/** SQLite only: the row's rowid, when the walk went by it (see walkColumn). */
	rowid?: number;
	old: string;
	next: string;
}

/**
 * A statement carries at most this many rows and this many bytes of text (old and new together):
 * MariaDB's default max_allowed_packet is 16 MiB, and a statement's parameters are held in memory
 * twice (ours, the driver's) while it runs.
 */
export const STATEMENT_ROWS = 1000;
export const STATEMENT_BYTES = 4 * 1024 * 1024;

/** Cuts changes into statements bounded by STATEMENT_ROWS and STATEMENT_BYTES (a single larger value goes alone). */
export function statementSlices(changes: Change[], maxRows = STATEMENT_ROWS, maxBytes = STATEMENT_BYTES): Change[][] {
	const slices: Change[][] = [];
	for (let at = 0; at < changes.length; ) {
		const next = changes.slice(at, at + Math.max(1, maxRows));
		const count = rowsWithin(
			next.map((c) => c.old.length + c.next.length),
			maxBytes,
		);
		slices.push(next.slice(0, count));
		at += count;
	}
	return slices;
}

/**
 * Writes one batch in one transaction, each row only if it still holds the text we read
 * (compare-and-swap): a value a live server changed meanwhile is left as it was written, so a
 * concurrent writer is never overwritten and two runs at once each rewrite a row at most once.
 * Set-based on SQLite, PostgreSQL and MariaDB/MySQL: one UPDATE joined to the batch's rows per
 * statement slice, instead of one UPDATE per row. Returns how many rows changed.
 */
export async function compareAndSwap(db: Knex, target: Target, changes: Change[]): Promise<number> {
	const update = setBasedUpdate(db, target);
	return db.transaction(async (trx) => {
		// PostgreSQL otherwise tends to hash the whole table to join a thousand rows (seen at 100k rows: 37 ms
		// a statement instead of 9, and growing with the table); by key, each row is one index lookup. This transaction only.
		if (dialectOf(trx) === 'postgres') await trx.raw('set local enable_hashjoin = off; set local enable_mergejoin = off');
		let changed = 0;
		for (const slice of statementSlices(changes)) changed += update ? await update(trx, slice) : await rowByRow(trx, target, slice);
		return changed;
	});
}

type SliceUpdate = (trx: Knex.Transaction, slice: Change[]) => Promise<number>;

function setBasedUpdate(db: Knex, target: Target): SliceUpdate | undefined {
	switch (dialectOf(db)) {
		case 'sqlite':
			return sqliteUpdate(target);
		case 'postgres':
			return postgresUpdate(target);
		case 'mysql':
			return mysqlUpdate(target);
		default:
			return undefined;
	}
}

/** `update t set f = v.next from (values …) as v where <row> = v.<row> and f = v.old` (VALUES is not held to SQLite's 500-term compound limit). */
function sqliteUpdate(target: Target): SliceUpdate {
	return async (trx, slice) => {
		const byRowid = slice[0]!.rowid !== undefined;
		// By rowid and key: the rowid finds the row without the key's index, the key makes sure it is still the row we read.
		const where = byRowid ? `t.${ROWID} = v.column4 and t.?? = v.column1` : 't.?? = v.column1';
		const values = slice.map(() => (byRowid ? '(?, ?, ?, ?)' : '(?, ?, ?)')).join(', ');
		const sql = `update ?? as t set ?? = v.column3 from (values ${values}) as v where ${where} and cast(t.?? as text) = v.column2 returning 1`;
		const rows = slice.flatMap((c) => (byRowid ? [c.pk, c.old, c.next, c.rowid!] : [c.pk, c.old, c.next]));
		const result = await trx.raw(sql, [target.collection, target.field, ...rows, target.pk, target.field]);
		return (result as unknown[]).length;
	};
}

/** `update t set f = v.next from (values …) as v(pk, old, next) where t.pk = v.pk and f::text = v.old`. */
function postgresUpdate(target: Target): SliceUpdate {
	const pkType = target.pkType === 'uuid' ? 'uuid' : target.pkType === 'integer' || target.pkType === 'bigInteger' ? 'bigint' : 'text';
	const next = target.json ? 'cast(v.cred_next as json)' : 'v.cred_next';
	return async (trx, slice) => {
		const values = slice.map(() => '(?, ?, ?)').join(', ');
		const sql = `update ?? as t set ?? = ${next} from (values ${values}) as v(cred_pk, cred_old, cred_next) where t.?? = cast(v.cred_pk as ${pkType}) and cast(t.?? as text) = v.cred_old`;
		const result = await trx.raw(sql, [target.collection, target.field, ...slice.flatMap((c) => [String(c.pk), c.old, c.next]), target.pk, target.field]);
		return Number((result as { rowCount?: number }).rowCount ?? 0);
	};
}

/**
 * `update (select … union all select …) as v straight_join t on t.pk = v.pk and <f, byte for byte> = v.old set t.f = v.next`.
 * STRAIGHT_JOIN reads the batch first and finds each row by key: with fresh table statistics MariaDB
 * otherwise may scan the table and compare every row with every row of the batch (seen: 35 s for 1,000 rows).
 */
function mysqlUpdate(target: Target): SliceUpdate {
	return async (trx, slice) => {
		const rows = slice.map((_, i) => (i === 0 ? 'select ? as cred_pk, ? as cred_old, ? as cred_next' : 'select ?, ?, ?')).join(' union all ');
		const sql = `update (${rows}) as v straight_join ?? as t on t.?? = v.cred_pk and ? = v.cred_old set t.?? = v.cred_next`;
		const [result] = (await trx.raw(sql, [...slice.flatMap((c) => [c.pk, c.old, c.next]), target.collection, target.pk, binaryTextOf(trx, `t.${target.field}`), target.field])) as [{ affectedRows: number }];
		return Number(result.affectedRows);
	};
}

/** Any other database: one compare-and-swap UPDATE per row. */
async function rowByRow(trx: Knex.Transaction, target: Target, slice: Change[]): Promise<number> {
	let changed = 0;
	for (const change of slice) {
		const updated = await trx(target.collection).where(target.pk, change.pk).andWhere(textEquals(trx, target.field, change.old)).update({ [target.field]: change.next });
		changed += Number(updated) === 1 ? 1 : 0;
	}
	return changed;
}
