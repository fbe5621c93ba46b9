import type { Knex } from 'knex';
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

/**
 * Walks a column a batch at a time (keyset pagination, in walkColumn's order): memory stays flat
 * whatever the table size, and rows written meanwhile are either seen or were already current.
 * `only` narrows the walk to the rows it selects.
 */
export async function* scanColumn(db: Knex, target: Target, batchSize: number, only?: (query: Knex.QueryBuilder) => void): AsyncGenerator<StoredRow[]> {
	const walk = await walkColumn(db, target);
	const byRowid = walk !== target.pk;
	let after: string | number | undefined;
	for (;;) {
		const query = db(target.collection)
			.select({ pk: target.pk })
			.select({ text: textOf(db, target.field) })
			.orderBy(walk)
			.limit(batchSize);
		if (byRowid) query.select({ rowid: walk });
		if (after !== undefined) query.where(walk, '>', after);
		only?.(query);
		const rows = (await query) as StoredRow[];
		if (rows.length === 0) return;
		yield rows;
		const last = rows[rows.length - 1]!;
		after = byRowid ? last.rowid! : last.pk;
		if (rows.length < batchSize) return;
	}
}
