import type { Knex } from 'knex';
import { KEY_READERS_COLLECTION, KEYS_COLLECTION } from '../schema/collections.js';

/**
 * The wrapped data keys in `credentials_keys` (beside the canaries every key has) and the instances'
 * heartbeats in `credentials_key_readers`. Plain SQL: Directus's items refuse writes to both (see
 * hook/handlers/internal-collections.ts), so only these functions change them.
 */
export type KeyState = 'pending' | 'current' | 'retired';

export interface WrappedKeyRow {
	keyId: string;
	wrapped: string;
	kek: string;
	state: KeyState;
	createdAt: unknown;
}

const STATES: readonly string[] = ['pending', 'current', 'retired'];

/** Whether setup has given `credentials_keys` its wrapped-key columns (an older install has canaries only). */
export async function hasWrappedKeys(db: Knex): Promise<boolean> {
	return (await db.schema.hasTable(KEYS_COLLECTION)) && (await db.schema.hasColumn(KEYS_COLLECTION, 'wrapped'));
}

export async function readWrappedKeys(db: Knex): Promise<WrappedKeyRow[]> {
	if (!(await hasWrappedKeys(db))) return [];
	const rows = (await db(KEYS_COLLECTION).whereNotNull('wrapped').select('key_id', 'wrapped', 'kek', 'state', 'created_at').orderBy('key_id')) as Record<string, unknown>[];
	return rows.map((r) => ({
		keyId: String(r['key_id']),
		wrapped: String(r['wrapped']),
		kek: String(r['kek']),
		// A state that is none of the three is read as retired: readable, never written with.
		state: (STATES.includes(String(r['state'])) ? r['state'] : 'retired') as KeyState,
		createdAt: r['created_at'],
	}));
}

/** A new wrapped data key with its canary, pending: readable once instances load it, written with once promoted. */
export async function insertWrappedKey(db: Knex, row: { keyId: string; wrapped: string; kek: string; canary: string }) {
	await db(KEYS_COLLECTION).insert({ key_id: row.keyId, wrapped: row.wrapped, kek: row.kek, state: 'pending', canary: row.canary, created_at: db.fn.now() });
}

/** One transaction: the current key retires, the promoted one becomes current. False when no such wrapped key. */
export async function promoteWrappedKey(db: Knex, keyId: string): Promise<boolean> {
	return db.transaction(async (trx) => {
		const found = await trx(KEYS_COLLECTION).where('key_id', keyId).whereNotNull('wrapped').first('state');
		if (!found) return false;
		await trx(KEYS_COLLECTION).whereNotNull('wrapped').where('state', 'current').whereNot('key_id', keyId).update({ state: 'retired' });
		await trx(KEYS_COLLECTION).where('key_id', keyId).update({ state: 'current' });
		return true;
	});
}

/** Replaces one key's wrapping if it is still the one read (compare-and-swap): a rerun or a concurrent rewrap never loses a key. */
export async function replaceWrapping(db: Knex, keyId: string, before: string, after: { wrapped: string; kek: string }): Promise<boolean> {
	const changed = await db(KEYS_COLLECTION).where({ key_id: keyId, wrapped: before }).update(after);
	return Number(changed) === 1;
}

export interface KeyReader {
	instance: string;
	keyIds: string[];
	seenAt: number;
}

/** An instance says which wrapped keys it has unwrapped (upsert of its own row). */
export async function recordReader(db: Knex, instance: string, keyIds: readonly string[]) {
	await db(KEY_READERS_COLLECTION)
		.insert({ instance, key_ids: [...keyIds].sort().join(','), seen_at: new Date().toISOString() })
		.onConflict('instance')
		.merge();
}

export async function forgetReader(db: Knex, instance: string) {
	await db(KEY_READERS_COLLECTION).where('instance', instance).delete();
}

/** Instances heard from within the window (older rows are instances that stopped without saying so). */
export async function liveReaders(db: Knex, withinMs: number, now = Date.now()): Promise<KeyReader[]> {
	if (!(await db.schema.hasTable(KEY_READERS_COLLECTION))) return [];
	const rows = (await db(KEY_READERS_COLLECTION).select('instance', 'key_ids', 'seen_at')) as Record<string, unknown>[];
	return rows
		.map((r) => ({ instance: String(r['instance']), keyIds: String(r['key_ids'] ?? '').split(',').filter(Boolean), seenAt: Date.parse(String(r['seen_at'])) }))
		.filter((r) => now - r.seenAt <= withinMs);
}
