import type { Knex } from 'knex';
import { KEY_READERS_COLLECTION, KEYS_COLLECTION } from '../schema/collections.js';
import { dialectOf } from '../lib/dialect.js';

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

/** Databases known to have the columns: once added they stay (the schema guards keep them from being dropped). */
const known = new WeakSet<Knex>();

/** Whether setup has given `credentials_keys` its wrapped-key columns (an older install has canaries only). Asked every poll: a yes is remembered. */
export async function hasWrappedKeys(db: Knex): Promise<boolean> {
	if (known.has(db)) return true;
	const has = (await db.schema.hasTable(KEYS_COLLECTION)) && (await db.schema.hasColumn(KEYS_COLLECTION, 'wrapped'));
	if (has) known.add(db);
	return has;
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

/**
 * One transaction: the current key retires, the promoted one becomes current. False when no such wrapped
 * key. The wrapped rows are locked first (PostgreSQL, MariaDB; SQLite writes one at a time), so two
 * promotions at once cannot each retire only what their snapshot saw and leave two keys current.
 */
export async function promoteWrappedKey(db: Knex, keyId: string): Promise<boolean> {
	return db.transaction(async (trx) => {
		const wrapped = trx(KEYS_COLLECTION).whereNotNull('wrapped').select('key_id');
		await (dialectOf(db) === 'sqlite' ? wrapped : wrapped.forUpdate());
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
	/** As the instance wrote it (its own clock): compared for change, and against the reader's clock only for long-gone rows. */
	seenAt: string;
}

/**
 * Reports older than this are instances that stopped long ago: removed by the other instances, ignored
 * by a promotion (hosts' clocks are assumed within an hour of each other).
 */
export const FORGET_AFTER_MS = 60 * 60 * 1000;

/** An instance says which wrapped keys it has unwrapped (upsert of its own row), and clears rows of instances long gone. */
export async function recordReader(db: Knex, instance: string, keyIds: readonly string[], now = Date.now()) {
	await db(KEY_READERS_COLLECTION)
		.insert({ instance, key_ids: [...keyIds].sort().join(','), seen_at: new Date(now).toISOString() })
		.onConflict('instance')
		.merge();
	await db(KEY_READERS_COLLECTION).where('seen_at', '<', new Date(now - FORGET_AFTER_MS).toISOString()).delete();
}

/** Every instance's last report. Refused when setup has not made the table: a promotion must know who reads. */
export async function readReaders(db: Knex): Promise<KeyReader[]> {
	if (!(await db.schema.hasTable(KEY_READERS_COLLECTION))) throw new Error(`${KEY_READERS_COLLECTION} is missing: run \`credentials setup\``);
	const rows = (await db(KEY_READERS_COLLECTION).select('instance', 'key_ids', 'seen_at')) as Record<string, unknown>[];
	return rows.map((r) => ({ instance: String(r['instance']), keyIds: String(r['key_ids'] ?? '').split(',').filter(Boolean), seenAt: String(r['seen_at']) }));
}
