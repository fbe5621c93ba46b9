import type { Knex } from 'knex';
import { DIRECTUS_ENCRYPT_PREFIX } from '../crypto/index.js';
import { dialectOf } from '../lib/dialect.js';
import type { SchemaOverview } from '@directus/types';
import type { FieldRef } from '../schema/protected-fields.js';

/** One protected column, resolved against the schema. */
export interface Target extends FieldRef {
	pk: string;
	/** Directus's type of the primary key (uuid, integer, string…). */
	pkType: string;
	json: boolean;
}

export interface StoredRow {
	pk: string | number;
	/** The column's exact text (JSON columns too), so a compare-and-swap can match it byte for byte. */
	text: string | null;
	/** SQLite only: where the row lies in its table (see walkColumn), so a write can find it without the key's index. */
	rowid?: number;
}

/** The protected fields that exist, optionally limited to one collection. */
export function resolveTargets(schema: SchemaOverview, fields: FieldRef[], collection?: string): Target[] {
	return fields
		.filter((f) => !collection || f.collection === collection)
		.flatMap((f) => {
			const info = schema.collections[f.collection];
			const field = info?.fields[f.field];
			return info && field ? [{ ...f, pk: info.primary, pkType: info.fields[info.primary]?.type ?? 'string', json: field.type === 'json' }] : [];
		});
}

/** `CAST(column AS TEXT)` in the dialect at hand: the stored text, whatever the column type. */
export function textOf(db: Knex, column: string): Knex.Raw {
	return dialectOf(db) === 'mysql' ? db.raw('CAST(?? AS CHAR)', [column]) : db.raw('CAST(?? AS TEXT)', [column]);
}

/**
 * The stored text compared byte for byte. On MySQL/MariaDB a CAST takes the connection's collation,
 * by default a case-insensitive `_ci` one, whatever the column's: the binary collation is named here.
 */
export function binaryTextOf(db: Knex, column: string): Knex.Raw {
	return dialectOf(db) === 'mysql' ? db.raw('CAST(?? AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin', [column]) : textOf(db, column);
}

/** `WHERE <column as text> = ?`: the compare half of compare-and-swap, for any column type, byte for byte. */
export function textEquals(db: Knex, column: string, value: string): Knex.Raw {
	return db.raw('? = ?', [binaryTextOf(db, column), value]);
}

/** Rows whose column text starts with Directus's encrypt prefix, byte for byte (`LIKE` would follow the collation). */
export function directusEncryptedOnly(db: Knex, column: string) {
	return (query: Knex.QueryBuilder) => {
		query.whereRaw('substr(?, 1, ?) = ?', [binaryTextOf(db, column), DIRECTUS_ENCRYPT_PREFIX.length, DIRECTUS_ENCRYPT_PREFIX]);
	};
}

/** Parses the column text back into what classifyStored expects (JSON columns hold `{ enc }`). */
export function storedValue(target: Target, text: string | null): unknown {
	if (text === null) return null;
	if (!target.json) return text;
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}

export async function countRows(db: Knex, target: Target): Promise<number> {
	const [row] = await db(target.collection).count({ n: '*' });
	return Number((row as { n: number | string }).n);
}

/** SQLite's name for a table's rowid, as the walk and compare-and-swap's UPDATE both spell it. */
export const ROWID = '_rowid_';

/**
 * The order a walk goes in. SQLite keeps a table's rows in rowid order, and a UUID key's index is
 * random with respect to it: a batch taken in key order touches one page per row, a batch taken in
 * rowid order a few pages in all (rotate writes about three times faster). The rowid is used when
 * the table has one and no column (generated ones included) is named `_rowid_`; otherwise, or where
 * SQLite is too old to say (before 3.37), the primary key.
 */
export async function walkColumn(db: Knex, target: Target): Promise<string> {
	if (dialectOf(db) !== 'sqlite') return target.pk;
	try {
		const [table] = (await db.raw('select wr from pragma_table_list where name = ?', [target.collection])) as { wr: number }[];
		if (!table || table.wr) return target.pk;
		const [shadowed] = (await db.raw('select 1 as taken from pragma_table_xinfo(?) where lower(name) = ?', [target.collection, ROWID])) as unknown[];
		return shadowed ? target.pk : ROWID;
	} catch {
		return target.pk;
	}
}

/** How much one batch of a walk holds: rows, and bytes of stored text (a single larger value is one batch of its own). */
export interface BatchLimit {
	rows: number;
	bytes: number;
}

/** 8 MiB of stored text for the batches a walk holds at once (rewrite shares it among the batches in flight): a few tens of MiB in memory with their sealed copies. */
export const BATCH_BYTES = 8 * 1024 * 1024;

/** How many of these values, in order, fit in `budget` bytes: at least one, so a walk always moves on. */
export function rowsWithin(sizes: number[], budget: number): number {
	let total = 0;
	let count = 0;
	for (const size of sizes) {
		if (count > 0 && total + size > budget) break;
		total += size;
		count++;
	}
	return count;
}

/** The stored text's length in bytes, as the database counts it (PostgreSQL reads a TOASTed value's size without fetching it). */
function byteLengthOf(db: Knex, column: string): Knex.Raw {
	return dialectOf(db) === 'sqlite' ? db.raw('length(CAST(? AS BLOB))', [textOf(db, column)]) : db.raw('octet_length(?)', [textOf(db, column)]);
}

/**
 * Walks a column a batch at a time (keyset pagination, in walkColumn's order): memory stays flat
 * whatever the table size, and rows written meanwhile are either seen or were already current.
 * A batch is bounded by rows and by bytes: one query reads every row's size and the text of those
 * no larger than their share of the budget (all of them, for values of usual size); a batch ends
 * where the budget does, and larger values within it are read by key afterwards. So a table of
 * 100 KB values is read a few dozen rows a batch, not 1,000. `only` narrows the walk to the rows it selects.
 */
export async function* scanColumn(db: Knex, target: Target, limit: BatchLimit, only?: (query: Knex.QueryBuilder) => void): AsyncGenerator<StoredRow[]> {
	const walk = await walkColumn(db, target);
	const byRowid = walk !== target.pk;
	const walkKey = (row: StoredRow) => (byRowid ? row.rowid! : row.pk);
	const bytes = byteLengthOf(db, target.field);
	const share = Math.floor(limit.bytes / limit.rows);
	let after: string | number | undefined;
	for (;;) {
		const query = db(target.collection)
			.select({ pk: target.pk, bytes })
			.select({ text: db.raw('CASE WHEN ? <= ? THEN ? END', [bytes, share, textOf(db, target.field)]) })
			.orderBy(walk)
			.limit(limit.rows);
		if (byRowid) query.select({ rowid: walk });
		if (after !== undefined) query.where(walk, '>', after);
		only?.(query);
		const read = (await query) as (StoredRow & { bytes: number | string | null })[];
		if (read.length === 0) return;
		const sized = read.slice(0, rowsWithin(read.map((r) => Number(r.bytes ?? 0)), limit.bytes));
		const larger = sized.filter((r) => r.text === null && r.bytes !== null);
		const reread = larger.length === 0 ? new Map<string, StoredRow>() : await rowsByKey(db, target, walk, walkKey, larger, only);
		// A larger value whose row is gone (or no longer selected) leaves the batch; one changed since is taken as read now.
		const rows = sized.flatMap(({ bytes: size, ...row }) => {
			if (row.text !== null || size === null) return [row];
			const now = reread.get(String(walkKey(row)));
			return now === undefined ? [] : [now];
		});
		if (rows.length > 0) yield rows;
		after = walkKey(sized[sized.length - 1]!);
		if (read.length < limit.rows && sized.length === read.length) return;
	}
}

/**
 * The rows of a batch's larger values, read again by walk key, a thousand keys a statement (databases
 * cap a statement's parameters), with the walk's own filter. By rowid, the key must match too: SQLite
 * may give a deleted row's rowid to a new one.
 */
async function rowsByKey(
	db: Knex,
	target: Target,
	walk: string,
	walkKey: (row: StoredRow) => string | number,
	rows: StoredRow[],
	only?: (query: Knex.QueryBuilder) => void,
): Promise<Map<string, StoredRow>> {
	const found = new Map<string, StoredRow>();
	for (let at = 0; at < rows.length; at += STATEMENT_KEYS) {
		const slice = rows.slice(at, at + STATEMENT_KEYS);
		const query = db(target.collection)
			.select({ pk: target.pk })
			.select({ text: textOf(db, target.field) })
			.whereIn(walk, slice.map(walkKey));
		if (walk !== target.pk) query.select({ rowid: walk });
		only?.(query);
		const pkOf = new Map(slice.map((r) => [String(walkKey(r)), String(r.pk)]));
		for (const row of (await query) as StoredRow[]) {
			const key = String(walkKey(row));
			if (pkOf.get(key) === String(row.pk)) found.set(key, row);
		}
	}
	return found;
}

const STATEMENT_KEYS = 1000;
