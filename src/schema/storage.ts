import type { Knex } from 'knex';
import { dialectOf } from '../lib/dialect.js';
import { MAX_ENVELOPE_CHARS, MYSQL_PROTECTED_TEXT_TYPE } from '../contracts/limits.js';
import { COLLECTIONS, INTERNAL_COLLECTIONS, VAULT_IDENTITY } from './collections.js';
import { BUILT_IN_PROTECTED_FIELDS } from './protected-fields.js';

/**
 * Column types that hold everything the routes accept, on every database. Directus creates `text`
 * as MySQL TEXT (64 KB: a sealed 49 KB value overflows it) and `timestamp` as MySQL TIMESTAMP
 * (ends in January 2038). PostgreSQL (text, timestamptz) and SQLite already hold both, so only
 * MySQL/MariaDB columns change here:
 * - protected columns become a large text type with a binary collation, so a compare-and-swap
 *   matches a stored envelope byte for byte (the default `_ci` collations ignore case);
 * - the vault's identity (owner:service:name, unique) compares with a binary collation too, so
 *   "Prod" and "prod" are two names, as on the other databases;
 * - date fields become DATETIME, which Directus still reads and writes as a timestamp (UTC, ISO
 *   8601 with Z) through the `cast-timestamp` special.
 * The same changes upgrade an existing installation in place: MODIFY keeps every row and index.
 */
export interface StoragePlan {
	/** `ALTER TABLE … MODIFY …` statements, with what each one does in words. */
	alters: { sql: string; bindings: string[]; change: string }[];
	/** Date fields whose `special` needs `cast-timestamp` (the column is, or will be, DATETIME). */
	castTimestamp: { collection: string; field: string; special: string[] }[];
}

export interface ColumnInfo {
	table: string;
	column: string;
	/** information_schema's DATA_TYPE, lower case: text, mediumtext, varchar, timestamp, datetime, … */
	dataType: string;
	collation: string | null;
	nullable: boolean;
	maxLength: number | null;
}

export const BINARY_COLLATION = 'utf8mb4_bin';
const TEXT_CAPACITY: Record<string, number> = { tinytext: 255, text: 65_535, mediumtext: 16_777_215, longtext: 4_294_967_295 };

const TIMESTAMP_FIELDS = [...COLLECTIONS, ...INTERNAL_COLLECTIONS].flatMap((def) =>
	def.fields.filter((f) => f.type === 'timestamp').map((f) => ({ collection: def.collection, field: f.field })),
);

export const isMysql = (db: Knex) => dialectOf(db) === 'mysql';

/** What has to change, from the columns as they are and the fields' current `special`. Pure. */
export function planStorage(columns: ColumnInfo[], specials: (collection: string, field: string) => readonly string[]): StoragePlan {
	const plan: StoragePlan = { alters: [], castTimestamp: [] };
	const find = (table: string, column: string) => columns.find((c) => c.table === table && c.column === column);
	const nullability = (c: ColumnInfo) => (c.nullable ? 'NULL' : 'NOT NULL');
	for (const { collection, field } of BUILT_IN_PROTECTED_FIELDS) {
		const column = find(collection, field);
		// JSON columns are LONGTEXT with a binary collation on MariaDB and a native type on MySQL.
		if (!column || column.dataType === 'json') continue;
		const holds = (TEXT_CAPACITY[column.dataType] ?? 0) >= MAX_ENVELOPE_CHARS;
		if (holds && column.collation === BINARY_COLLATION) continue;
		const type = holds ? column.dataType.toUpperCase() : MYSQL_PROTECTED_TEXT_TYPE.toUpperCase();
		plan.alters.push({
			sql: `ALTER TABLE ?? MODIFY ?? ${type} CHARACTER SET utf8mb4 COLLATE ${BINARY_COLLATION} ${nullability(column)}`,
			bindings: [collection, field],
			change: `${collection}.${field}: ${column.dataType} ${column.collation ?? ''} → ${type.toLowerCase()} ${BINARY_COLLATION}`.replace(/\s+/g, ' '),
		});
	}
	const identity = find(VAULT_IDENTITY.collection, VAULT_IDENTITY.field);
	if (identity && identity.collation !== BINARY_COLLATION) {
		const length = identity.maxLength ?? 255;
		plan.alters.push({
			sql: `ALTER TABLE ?? MODIFY ?? VARCHAR(${length}) CHARACTER SET utf8mb4 COLLATE ${BINARY_COLLATION} ${nullability(identity)}`,
			bindings: [VAULT_IDENTITY.collection, VAULT_IDENTITY.field],
			change: `${VAULT_IDENTITY.collection}.${VAULT_IDENTITY.field}: ${identity.collation} → ${BINARY_COLLATION} (names compare with their case)`,
		});
	}
	for (const { collection, field } of TIMESTAMP_FIELDS) {
		const column = find(collection, field);
		if (!column) continue;
		if (column.dataType === 'timestamp')
			plan.alters.push({
				sql: `ALTER TABLE ?? MODIFY ?? DATETIME ${nullability(column)}`,
				bindings: [collection, field],
				change: `${collection}.${field}: timestamp → datetime (dates after 2038)`,
			});
		const special = specials(collection, field);
		if (!special.includes('cast-timestamp')) plan.castTimestamp.push({ collection, field, special: [...special, 'cast-timestamp'] });
	}
	return plan;
}

/** The extension's columns as MySQL/MariaDB describe them. */
export async function readColumns(db: Knex): Promise<ColumnInfo[]> {
	const tables = [...COLLECTIONS, ...INTERNAL_COLLECTIONS].map((c) => c.collection);
	const rows: Record<string, unknown>[] = await db('information_schema.columns')
		.select({ table: 'TABLE_NAME', column: 'COLUMN_NAME', dataType: 'DATA_TYPE', collation: 'COLLATION_NAME', nullable: 'IS_NULLABLE', maxLength: 'CHARACTER_MAXIMUM_LENGTH' })
		.whereRaw('TABLE_SCHEMA = DATABASE()')
		.whereIn('TABLE_NAME', tables);
	return rows.map((r) => ({
		table: String(r['table']),
		column: String(r['column']),
		dataType: String(r['dataType']).toLowerCase(),
		collation: r['collation'] === null ? null : String(r['collation']),
		nullable: r['nullable'] === 'YES',
		maxLength: r['maxLength'] === null ? null : Number(r['maxLength']),
	}));
}
