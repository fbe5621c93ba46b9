import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { ENVELOPE_HEAD_CHARS } from '../crypto/index.js';
import { dialectOf } from '../lib/dialect.js';
import { binaryTextOf, type Target } from './scan.js';

/**
 * The expression the census groups a text column by: the envelope's head (prefix, key id, `:`). Its numbers are part of the SQL, not bound:
 * PostgreSQL uses statistics on an expression only for a query that spells the same expression.
 */
export function censusHead(db: Knex, column: string): Knex.Raw {
	return db.raw(`substr(?, 1, ${ENVELOPE_HEAD_CHARS})`, [binaryTextOf(db, column)]);
}

/** Deterministic per column and short enough for PostgreSQL's 63-character names. */
export const statisticsName = (target: Pick<Target, 'collection' | 'field'>) =>
	`credentials_census_${createHash('sha256').update(`${target.collection}\0${target.field}`).digest('hex').slice(0, 16)}`;

const ensured = new WeakMap<Knex, Map<string, Promise<void>>>();

/**
 * On PostgreSQL (14 and later), statistics on the census's grouping expression, made once per column.
 * Without them the planner takes every value for a group of its own (the column's values are all
 * distinct) and counts on one core; with them it knows there are a few and counts in parallel
 * (1M rows on 2 cores: about 220 ms instead of 450–600). A statistics object costs writes nothing
 * (unlike an index) and is dropped with its column. Best effort: where it cannot be made (an older
 * PostgreSQL, a role that does not own the table) the census is as correct, only slower. Not inside
 * a transaction, which could roll it back after it was remembered as made.
 */
export function ensureCensusStatistics(db: Knex, target: Target): Promise<void> {
	if (dialectOf(db) !== 'postgres' || (db as Knex & { isTransaction?: boolean }).isTransaction) return Promise.resolve();
	let made = ensured.get(db);
	if (!made) ensured.set(db, (made = new Map()));
	const key = statisticsName(target);
	let pending = made.get(key);
	if (!pending) {
		pending = createStatistics(db, target, key).catch(() => undefined);
		made.set(key, pending);
	}
	return pending;
}

async function createStatistics(db: Knex, target: Target, name: string) {
	const existing = await db('pg_statistic_ext').select('stxname').where({ stxname: name }).whereRaw('stxnamespace = current_schema()::regnamespace');
	if (existing.length > 0) return;
	await db.raw('CREATE STATISTICS IF NOT EXISTS ?? ON (?) FROM ??', [name, censusHead(db, target.field), target.collection]);
	// Filled by the next ANALYZE; this one samples a fixed number of rows whatever the table's size.
	await db.raw('ANALYZE ??', [target.collection]);
}
