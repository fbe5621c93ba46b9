import type { Knex } from 'knex';
import { DecryptError, openEnvelope, sealValue, type Keyring, type ValueContext } from '../crypto/index.js';
import { KEYS_COLLECTION } from '../schema/collections.js';
import { censusOf } from './census.js';
import type { Target } from './scan.js';
import { safeMessage } from '../lib/error-message.js';

const CANARY_VALUE = 'directus-extension-credentials canary';
const canaryContext = (keyId: string): ValueContext => ({ collection: KEYS_COLLECTION, field: 'canary', pk: keyId });

/** The canary a new key's row is created with (a wrapped data key gets it at once, sealed under itself). */
export const canaryFor = (ring: Keyring) => sealValue(ring, CANARY_VALUE, canaryContext(ring.current.id));

export interface KeyCheck {
	/** Errors to log: each names the key id and what to do, never a key. */
	errors: string[];
	info: string[];
	/** Key ids that rows are encrypted under but no configured key has. */
	missingKeyIds: string[];
}

/**
 * At start: records a canary for the current key, confirms every configured key opens its
 * canary, and, for canaries whose key is not configured, counts the rows still under them.
 * Rows under a missing key are reported (and refused on reveal); a retired key with no rows left
 * has its canary removed. Reads only, except the canary rows themselves.
 */
export async function checkKeys(db: Knex, ring: Keyring, targets: Target[]): Promise<KeyCheck> {
	const result: KeyCheck = { errors: [], info: [], missingKeyIds: [] };
	// Wrapped data keys (src/keys/) are loaded by the hierarchy: one this process has not loaded yet (added
	// since it started) is not "missing", and its row — the only copy of that key — is never deleted here.
	// One read, so a key added between two reads cannot pass for a canary without a wrapped key.
	const hasWrapped = await db.schema.hasColumn(KEYS_COLLECTION, 'wrapped');
	const rows = (await db(KEYS_COLLECTION).select('key_id', 'canary', ...(hasWrapped ? ['wrapped'] : []))) as { key_id: string; canary: string; wrapped?: string | null }[];
	const canaries = rows.filter((c) => ring.byId(c.key_id) || c.wrapped === null || c.wrapped === undefined);

	if (!canaries.some((c) => c.key_id === ring.current.id)) {
		try {
			// The database's own clock: an ISO string with Z is no DATETIME literal on MariaDB/MySQL.
			await db(KEYS_COLLECTION).insert({ key_id: ring.current.id, canary: canaryFor(ring), created_at: db.fn.now() });
		} catch (error) {
			// Another instance may have recorded it first; anything else is a failure to say.
			const recorded = await db(KEYS_COLLECTION).where('key_id', ring.current.id).first('key_id');
			if (!recorded) result.errors.push(`the canary of key ${ring.current.id} could not be recorded: ${safeMessage(error).slice(0, 200)}`);
		}
	}

	const absent: string[] = [];
	for (const canary of canaries) {
		if (!ring.byId(canary.key_id)) {
			absent.push(canary.key_id);
			continue;
		}
		try {
			if (openEnvelope(ring, canary.canary, canaryContext(canary.key_id)) !== CANARY_VALUE) throw new DecryptError('authentication-failed', 'wrong canary');
		} catch {
			result.errors.push(`the configured key with id ${canary.key_id} does not open its canary: the key or the canary row has been altered`);
		}
	}
	if (absent.length === 0) return result;

	// Counted by key id in SQL: start-up decrypts nothing and reads one row per key id and field.
	const fields = await Promise.all(targets.map(async (t) => ({ field: `${t.collection}.${t.field}`, ...(await censusOf(db, t)) })));
	for (const keyId of absent) {
		const using = fields.filter((f) => f.byKeyId[keyId]).map((f) => `${f.field}: ${f.byKeyId[keyId]}`);
		if (using.length === 0) {
			// Never a wrapped key's row, whatever was read: it is the only copy of that key.
			await db(KEYS_COLLECTION).where('key_id', keyId).modify((q) => (hasWrapped ? q.whereNull('wrapped') : q)).delete();
			result.info.push(`key ${keyId} is retired: no rows use it any more`);
		} else {
			result.missingKeyIds.push(keyId);
			result.errors.push(
				`rows are encrypted under key id ${keyId}, which is not configured (${using.join(', ')}). They cannot be revealed and are left untouched. ` +
					'Add that key to CREDENTIALS_ENC_PREVIOUS_KEYS_B64 (or restore CREDENTIALS_ENC_KEY_B64) and restart.',
			);
		}
	}
	return result;
}
