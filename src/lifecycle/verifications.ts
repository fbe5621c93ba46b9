import type { Knex } from 'knex';
import { VERIFICATIONS_COLLECTION } from '../schema/collections.js';

/** What the last `verify` found for one protected field (`collection.field`). */
export interface Verification {
	verifiedAt: string;
	checked: number;
	undecryptable: number;
	earlierBinding: number;
}

/**
 * Records what a verify run found, one row per field it checked (a newer run replaces an older one).
 * False when setup has not yet created the collection (an installation upgraded without it).
 */
export async function recordVerifications(db: Knex, results: Map<string, Verification>): Promise<boolean> {
	if (!(await db.schema.hasTable(VERIFICATIONS_COLLECTION))) return false;
	if (results.size === 0) return true;
	const rows = [...results].map(([field, v]) => ({ field, verified_at: v.verifiedAt, checked: v.checked, undecryptable: v.undecryptable, earlier_binding: v.earlierBinding }));
	await db(VERIFICATIONS_COLLECTION).insert(rows).onConflict('field').merge();
	return true;
}

/**
 * The last verification of every field. An installation whose setup has not yet created the
 * collection has none: status then says "not verified" rather than failing.
 */
export async function lastVerifications(db: Knex): Promise<Map<string, Verification>> {
	if (!(await db.schema.hasTable(VERIFICATIONS_COLLECTION))) return new Map();
	const rows = (await db(VERIFICATIONS_COLLECTION).select('field', 'verified_at', 'checked', 'undecryptable', 'earlier_binding')) as Record<string, unknown>[];
	return new Map(
		rows.map((r) => [
			String(r['field']),
			{ verifiedAt: String(r['verified_at']), checked: Number(r['checked']), undecryptable: Number(r['undecryptable']), earlierBinding: Number(r['earlier_binding']) },
		]),
	);
}
