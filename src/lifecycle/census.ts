import type { Knex } from 'knex';
import { classifyStored, ENVELOPE_PREFIX, isKeyId, KEY_ID_CHARS, namedKeyId } from '../crypto/index.js';
import { censusHead, ensureCensusStatistics } from './census-statistics.js';
import { BATCH_BYTES, binaryTextOf, scanColumn, storedValue, type Target } from './scan.js';

/**
 * How one protected column's values are stored, counted without decrypting anything: rows per key
 * id, empty, legacy, Directus's encrypt special and plaintext. The database groups the well-formed envelopes by the key id in
 * their prefix (`cred:v2:<keyId>:`, whether or not the rest would open: verify says that), so it answers with one row per key id whatever the table's
 * size; only the values that are not plainly an envelope (legacy, plaintext, odd JSON spacing) are
 * read here and classified one by one — in a healthy table there are none.
 */
export interface Census {
	rows: number;
	empty: number;
	byKeyId: Record<string, number>;
	legacy: number;
	/** Values of Directus's own `encrypt` special in a field protected since (adopt-encrypt-special moves them). */
	directusEncrypt: number;
	plaintext: number;
}

type Shape = { prefix: string; keyIdAt: number };

/**
 * The shapes a well-formed envelope takes in the column's text, and where its key id starts (1-based,
 * as SQL's substr counts). JSON columns hold `{"enc":"<envelope>"}`; PostgreSQL's jsonb prints a space
 * after the colon. Any other spelling is left to the one-by-one pass, which reads it exactly.
 */
export function envelopeShapes(json: boolean): Shape[] {
	const prefixes = json ? [`{"enc":"${ENVELOPE_PREFIX}`, `{"enc": "${ENVELOPE_PREFIX}`] : [ENVELOPE_PREFIX];
	return prefixes.map((prefix) => ({ prefix, keyIdAt: prefix.length + 1 }));
}

/** A column's text, or a derived table's column holding part of it. */
type Text = Knex.Raw | Knex.Ref<string, object>;

/**
 * SQL that is true exactly for the texts that classifyStored reads as a `cred:v2` envelope with the
 * key id at `keyIdAt`: the prefix compared byte for byte (a `CRED:V2:` plaintext is no envelope, on a
 * case-insensitive collation too), a `:` after the key id, and for JSON an object with the one
 * member `enc` (four double quotes in all, closing with `"}`: an envelope holds no quote).
 */
function shapeSql(db: Knex, text: Text, json: boolean, shape: Shape): Knex.Raw {
	const parts = ['substr(?, 1, ?) = ?', 'substr(?, ?, 1) = ?'];
	const bindings: unknown[] = [text, shape.prefix.length, shape.prefix, text, shape.keyIdAt + KEY_ID_CHARS, ':'];
	if (json) {
		parts.push('substr(?, length(?) - 1, 2) = ?', `length(?) - length(replace(?, '"', '')) = 4`);
		bindings.push(text, text, '"}', text, text);
	}
	return db.raw(`(${parts.join(' AND ')})`, bindings);
}

/** Values sealed under any key, in a legacy format or by Directus's encrypt special: what a field still keeps secret. */
export function sealedCount(census: Census): number {
	return Object.values(census.byKeyId).reduce((sum, n) => sum + n, 0) + census.legacy + census.directusEncrypt;
}

/**
 * One row per form the column's values take: `empty`, a key id, or `other` (not plainly an envelope).
 * A text column is grouped in two steps: by its first characters up to the key id's closing `:` (a
 * plain substr the database can group in parallel: PostgreSQL does once it has statistics on that
 * expression, see census-statistics.ts), then those few groups are classified the way shapeSql does.
 * A JSON column's shape needs the whole text (its closing `"}` and quote count): one grouped CASE.
 */
async function groupedForms(db: Knex, target: Target): Promise<{ form: string; n: number | string }[]> {
	if (!target.json) {
		const heads = db(target.collection).select({ k: censusHead(db, target.field) }).count({ n: '*' }).groupByRaw('1');
		return db.from(heads.as('heads')).select({ form: formOf(db, db.ref('k'), false) }).sum({ n: 'n' }).groupByRaw('1');
	}
	return db(target.collection).select({ form: formOf(db, binaryTextOf(db, target.field), true) }).count({ n: '*' }).groupByRaw('1');
}

/** `empty`, the key id a well-formed envelope names, or `other`, for a column's text (or its head). */
function formOf(db: Knex, text: Text, json: boolean): Knex.Raw {
	const shapes = envelopeShapes(json);
	return db.raw(`CASE WHEN ? IS NULL THEN 'empty' ${shapes.map(() => 'WHEN ? THEN substr(?, ?, ?)').join(' ')} ELSE 'other' END`, [
		text,
		...shapes.flatMap((shape) => [shapeSql(db, text, json, shape), text, shape.keyIdAt, KEY_ID_CHARS]),
	]);
}

export async function censusOf(db: Knex, target: Target, batchSize = 1000): Promise<Census> {
	if (!target.json) await ensureCensusStatistics(db, target);
	const groups = await groupedForms(db, target);
	const census: Census = { rows: 0, empty: 0, byKeyId: {}, legacy: 0, directusEncrypt: 0, plaintext: 0 };
	for (const { form: kind, n } of groups) {
		const count = Number(n);
		census.rows += count;
		if (kind === 'empty') census.empty += count;
		// Counted by the key id the envelope names; `cred:v2:` and eight characters that are no key id
		// is a broken envelope that names none (verify names it).
		else if (isKeyId(kind)) census.byKeyId[kind] = (census.byKeyId[kind] ?? 0) + count;
	}
	if (!groups.some((g) => g.form === 'other')) return census;
	const notAnEnvelope = (query: Knex.QueryBuilder) => {
		query.whereNotNull(target.field);
		const text = binaryTextOf(db, target.field);
		for (const shape of envelopeShapes(target.json)) query.whereRaw('NOT ?', [shapeSql(db, text, target.json, shape)]);
	};
	for await (const batch of scanColumn(db, target, { rows: batchSize, bytes: BATCH_BYTES }, notAnEnvelope)) {
		for (const row of batch) tallyStored(census, storedValue(target, row.text));
	}
	return census;
}

/**
 * Counts one stored value (its row already counted in `rows`) the way the grouped SQL does: an
 * envelope by the key id it names (a broken one that names none counts nowhere else: verify names it).
 */
export function tallyStored(census: Census, value: unknown): void {
	const stored = classifyStored(value);
	if (stored.format === 'empty') census.empty++;
	else if (stored.format === 'plaintext') census.plaintext++;
	else if (stored.format === 'legacy-string' || stored.format === 'legacy-object') census.legacy++;
	else if (stored.format === 'directus-encrypt') census.directusEncrypt++;
	else {
		const keyId = namedKeyId(stored.sealed!);
		if (keyId) census.byKeyId[keyId] = (census.byKeyId[keyId] ?? 0) + 1;
	}
}
