import type { Accountability, SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import { classifyStored, earlierBindings, openStoredValue, sealForColumn } from '../../crypto/index.js';
import { KeyCaseConflictError, KeyNotConfiguredError } from '../../errors.js';
import { isJsonColumn, sealFields, withCanonicalKey, withChangeStamps, withoutMaskEchoes, withPrimaryKey, type PrimaryKey } from '../../protection/codec.js';
import { requireRing, type WriteDeps } from '../../protection/deps.js';
import { knexRowState, type RowState } from '../../protection/row-state.js';

/**
 * The item hook's side of protection: every `items.create`/`items.update` payload passes here.
 * The codec decides what each value becomes; this module adds what needs the database — the
 * row's current values (re-sealing, refusing to overwrite what nobody can read) and key-case
 * conflicts — and splits multi-row updates into one sealed write per row.
 */
type Payload = Record<string, unknown>;

export interface WriteContext {
	schema: SchemaOverview | null;
	accountability: Accountability | null;
	database?: Knex;
}

export async function protectCreate(deps: WriteDeps, payload: Payload, collection: string, context: WriteContext): Promise<Payload> {
	if (!payload || typeof payload !== 'object') return payload;
	let out = payload;
	// Also a row created without its secret: the secret written later is bound to the canonical key.
	// No two rows may have keys that differ only in case, or they would share a binding: PostgreSQL's
	// uuid and MariaDB's collation refuse such a pair themselves; SQLite (and a case-sensitive text
	// key) would hold an upper-case row written before keys were canonical beside the new one.
	if (deps.fields.of(collection).length > 0) {
		const canonical = withCanonicalKey(context.schema, collection, out);
		if (canonical.created && context.database && (await rowsOf(context).hasCaseVariant(collection, canonical.created.field, canonical.created.key))) {
			throw new KeyCaseConflictError({ collection });
		}
		out = canonical.payload;
	}
	const { payload: cleaned, written } = withoutMaskEchoes(deps.fields, collection, out);
	if (written.length === 0) return cleaned;
	const ring = await requireRing(deps);
	const { payload: keyed, pk } = withPrimaryKey(context.schema, collection, withChangeStamps(context.schema, collection, written, cleaned));
	return sealFields(ring, context.schema, collection, pk, written, keyed);
}

/**
 * A single-row update is sealed for its row. A multi-row update (batch by keys, update by query)
 * carries one payload for all rows, but every row needs its own ciphertext: the protected
 * values are taken out and written row by row, returning the rest for Directus to apply.
 */
export async function protectUpdate(
	deps: WriteDeps,
	payload: Payload,
	meta: { collection: string; keys: PrimaryKey[] },
	context: WriteContext,
	updateOneRow: (key: PrimaryKey, values: Payload) => Promise<void>,
): Promise<Payload> {
	if (!payload || typeof payload !== 'object') return payload;
	const { collection, keys } = meta;
	const { payload: cleaned, written } = withoutMaskEchoes(deps.fields, collection, payload);
	const out = keys.length === 1 ? { ...cleaned, ...(await resealedUntouched(deps, collection, keys[0]!, written, cleaned, context)) } : cleaned;
	if (written.length === 0) return out;
	const ring = await requireRing(deps);
	if (keys.length === 1) {
		const pk = keys[0]!;
		await refuseOverwritingUnreadable(deps, collection, pk, written, context);
		return sealFields(ring, context.schema, collection, pk, written, withChangeStamps(context.schema, collection, written, out));
	}
	const values: Payload = {};
	const rest: Payload = { ...out };
	for (const field of written) {
		values[field] = out[field];
		delete rest[field];
	}
	// Each row passes through this hook again with its own key, where it is sealed for that row.
	for (const key of keys) await updateOneRow(key, { ...values });
	return rest;
}

const rowsOf = (context: WriteContext): RowState => knexRowState(context.database!, context.schema);

/**
 * Fail closed for rows under a key that is not configured: replacing such a value would destroy
 * the only copy while nobody can read it. Only checked when the start-up key check found any.
 */
async function refuseOverwritingUnreadable(deps: WriteDeps, collection: string, pk: PrimaryKey, fields: string[], context: WriteContext) {
	const missing = deps.missingKeyIds();
	if (missing.size === 0 || !context.database) return;
	const row = await rowsOf(context).values(collection, pk, fields);
	for (const field of fields) {
		const { keyId } = classifyStored(row?.[field]);
		if (keyId && missing.has(keyId)) throw new KeyNotConfiguredError({ field, keyId });
	}
}

/**
 * The next write of a row moves its other protected values to today's form: a value under a
 * previous key, in a legacy format, or bound to an earlier spelling of the row's key is re-sealed
 * in the same update. Undecryptable values are left exactly as they are. Returns the re-sealed
 * values to add to the update.
 */
async function resealedUntouched(deps: WriteDeps, collection: string, pk: PrimaryKey, written: string[], payload: Payload, context: WriteContext): Promise<Payload> {
	const resealed: Payload = {};
	const untouched = deps.fields.of(collection).filter((f) => !written.includes(f) && !(f in payload));
	if (untouched.length === 0 || !context.database) return resealed;
	const state = await deps.keys();
	if (!state.ok) return resealed;
	const ring = state.ring;
	const row = await rowsOf(context).values(collection, pk, untouched);
	// Only a UUID key has earlier spellings; for any other key a current v2 value needs no decryption to be known current.
	const mayBeBoundEarlier = earlierBindings(pk).length > 0;
	for (const field of untouched) {
		const stored = classifyStored(row?.[field]);
		if (stored.format === 'empty' || stored.format === 'plaintext') continue;
		if (stored.format === 'v2' && stored.keyId === ring.current.id && !mayBeBoundEarlier) continue;
		try {
			const ctx = { collection, field, pk };
			const opened = openStoredValue(ring, row![field], ctx, stored);
			if (opened.outdated) resealed[field] = sealForColumn(ring, opened.value, ctx, isJsonColumn(context.schema, collection, field));
		} catch {
			/* not openable with the configured keys: keep it untouched */
		}
	}
	return resealed;
}
