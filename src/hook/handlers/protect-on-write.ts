import { randomUUID } from 'node:crypto';
import type { Accountability, SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import { boundKey, classifyStored, DecryptError, earlierBindings, isUuid, keySpellings, openStoredValue, sealForColumn, type Keyring, type ValueContext } from '../../crypto/index.js';
import type { KeyringState } from '../../config/env.js';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { MASK } from './mask-on-read.js';
import { ForeignEnvelopeError, KeyCaseConflictError, KeyNotConfiguredError, KeysUnavailableError, LegacyValueRefusedError, PrimaryKeyRequiredError } from '../../errors.js';

type Payload = Record<string, unknown>;
type PrimaryKey = string | number;

export interface WriteDeps {
	keys: () => Promise<KeyringState>;
	fields: ProtectedFields;
	/** Key ids that rows use but no configured key has (found at start); empty in a healthy system. */
	missingKeyIds: () => ReadonlySet<string>;
}

export interface WriteContext {
	schema: SchemaOverview | null;
	accountability: Accountability | null;
	database?: Knex;
}

/** The protected fields this payload writes, without the ones that only echo the mask. */
export function fieldsToProtect(deps: WriteDeps, collection: string, payload: Payload): string[] {
	const present: string[] = [];
	for (const field of deps.fields.of(collection)) {
		if (!(field in payload)) continue;
		// A client that read the row and sends it back unchanged must not overwrite the secret with the mask.
		if (payload[field] === MASK) delete payload[field];
		else present.push(field);
	}
	return present;
}

export async function requireRing(deps: WriteDeps): Promise<Keyring> {
	const state = await deps.keys();
	if (!state.ok) throw new KeysUnavailableError({ reason: state.error });
	return state.ring;
}

function isJsonColumn(schema: SchemaOverview | null, collection: string, field: string): boolean {
	return schema?.collections[collection]?.fields[field]?.type === 'json';
}

/**
 * Turns one incoming value into what the column stores. Plaintext is sealed; an envelope that
 * already opens for this exact row, in today's form, passes unchanged (no double encryption); an
 * envelope for another row, field or key is refused; an envelope of ours in an older form
 * (previous key, earlier spelling of the row's key) is opened and re-sealed. A legacy value is
 * refused: it names no row, so one from an old backup would open wherever a client planted it —
 * only the extension's own migration (`rotate`) reads stored legacy values.
 */
export function protectValue(ring: Keyring, value: unknown, ctx: ValueContext, jsonColumn: boolean): unknown {
	if (value === null || value === undefined) return null;
	const stored = classifyStored(value);
	if (stored.format === 'plaintext') return sealForColumn(ring, value, ctx, jsonColumn);
	if (stored.format === 'legacy-string' || stored.format === 'legacy-object') throw new LegacyValueRefusedError({ field: ctx.field });
	try {
		const opened = openStoredValue(ring, value, ctx);
		if (opened.outdated) return sealForColumn(ring, opened.value, ctx, jsonColumn);
		return jsonColumn ? { enc: stored.sealed } : stored.sealed;
	} catch (error) {
		// An envelope under a key that is not configured cannot be checked: say so, not "foreign".
		if (error instanceof DecryptError && error.reason === 'unknown-key' && stored.keyId) throw new KeyNotConfiguredError({ field: ctx.field, keyId: stored.keyId });
		if (error instanceof DecryptError) throw new ForeignEnvelopeError({ field: ctx.field });
		throw error;
	}
}

export async function protectCreate(deps: WriteDeps, payload: Payload, collection: string, context: WriteContext): Promise<Payload> {
	if (!payload || typeof payload !== 'object') return payload;
	// Also a row created without its secret: the secret written later is bound to the canonical key.
	if (deps.fields.of(collection).length > 0) await refuseCaseVariant(collection, canonicalizeKey(context.schema, collection, payload), context);
	const fields = fieldsToProtect(deps, collection, payload);
	if (fields.length === 0) return payload;
	const ring = await requireRing(deps);
	sealFields(ring, context.schema, collection, primaryKeyFor(context.schema, collection, payload), fields, payload);
	return payload;
}

/**
 * A UUID key a create payload carries is stored in its canonical (lower-case) form, the form its
 * values are bound to. Returns the field and key when there was one to canonicalize.
 */
function canonicalizeKey(schema: SchemaOverview | null, collection: string, payload: Payload): { field: string; key: string } | null {
	const field = schema?.collections[collection]?.primary ?? 'id';
	const pk = payload[field];
	if (!isUuid(pk)) return null;
	return { field, key: (payload[field] = boundKey(pk)) };
}

/**
 * No two rows may have keys that differ only in case, or they would share a binding. PostgreSQL's
 * uuid and MariaDB's collation refuse such a pair themselves; SQLite (and a case-sensitive text key)
 * would hold an upper-case row written before keys were canonical beside the new lower-case one.
 */
async function refuseCaseVariant(collection: string, created: { field: string; key: string } | null, context: WriteContext) {
	if (!created || !context.database) return;
	const variants = keySpellings(created.key).filter((spelling) => spelling !== created.key);
	const existing = await context.database(collection).select(created.field).whereIn(created.field, variants).first();
	if (existing && String(existing[created.field]) !== created.key) throw new KeyCaseConflictError({ collection });
}

/**
 * The key of the row a payload creates: the one it carries (or `known`), else a UUID assigned
 * now — a value is bound to its row, so the row's key must be known before it is written.
 */
export function primaryKeyFor(schema: SchemaOverview | null, collection: string, payload: Payload, known?: PrimaryKey | null): PrimaryKey {
	if (known !== undefined && known !== null) return known;
	canonicalizeKey(schema, collection, payload);
	const info = schema?.collections[collection];
	const pkField = info?.primary ?? 'id';
	const pk = payload[pkField] as PrimaryKey | undefined | null;
	if (pk !== undefined && pk !== null) return pk;
	if (info && info.fields[pkField]?.type !== 'uuid') throw new PrimaryKeyRequiredError({ collection });
	const assigned = randomUUID();
	payload[pkField] = assigned;
	return assigned;
}

/** Seals, in place, the given protected fields of one row's payload, bound to that row. */
export function sealFields(ring: Keyring, schema: SchemaOverview | null, collection: string, pk: PrimaryKey, fields: readonly string[], payload: Payload): void {
	for (const field of fields) {
		payload[field] = protectValue(ring, payload[field], { collection, field, pk }, isJsonColumn(schema, collection, field));
	}
}

/**
 * A single-row update seals in place. A multi-row update (batch by keys, update by query)
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
	const fields = fieldsToProtect(deps, collection, payload);
	if (keys.length === 1) await resealUntouched(deps, collection, keys[0]!, fields, payload, context);
	if (fields.length === 0) return payload;
	const ring = await requireRing(deps);
	if (keys.length === 1) {
		const pk = keys[0]!;
		await refuseOverwritingUnreadable(deps, collection, pk, fields, context);
		sealFields(ring, context.schema, collection, pk, fields, payload);
		return payload;
	}
	const values: Payload = {};
	for (const field of fields) {
		values[field] = payload[field];
		delete payload[field];
	}
	// Each row passes through this hook again with its own key, where it is sealed for that row.
	for (const key of keys) await updateOneRow(key, { ...values });
	return payload;
}

function currentRow(collection: string, pk: PrimaryKey, fields: string[], context: WriteContext): Promise<Payload | undefined> {
	const pkField = context.schema?.collections[collection]?.primary ?? 'id';
	return context.database!(collection).select(fields).where(pkField, pk).first();
}

/**
 * Fail closed for rows under a key that is not configured: replacing such a value would destroy
 * the only copy while nobody can read it. Only checked when the start-up key check found any.
 */
async function refuseOverwritingUnreadable(deps: WriteDeps, collection: string, pk: PrimaryKey, fields: string[], context: WriteContext) {
	const missing = deps.missingKeyIds();
	if (missing.size === 0 || !context.database) return;
	const row = await currentRow(collection, pk, fields, context);
	for (const field of fields) {
		const { keyId } = classifyStored(row?.[field]);
		if (keyId && missing.has(keyId)) throw new KeyNotConfiguredError({ field, keyId });
	}
}

/**
 * The next write of a row moves its other protected values to today's form: a value under a
 * previous key, in a legacy format, or bound to an earlier spelling of the row's key is re-sealed
 * in the same update. Undecryptable values are left exactly as they are.
 */
async function resealUntouched(deps: WriteDeps, collection: string, pk: PrimaryKey, written: string[], payload: Payload, context: WriteContext) {
	const untouched = deps.fields.of(collection).filter((f) => !written.includes(f) && !(f in payload));
	if (untouched.length === 0 || !context.database) return;
	const state = await deps.keys();
	if (!state.ok) return;
	const ring = state.ring;
	const row = await currentRow(collection, pk, untouched, context);
	// Only a UUID key has earlier spellings; for any other key a current v2 value needs no decryption to be known current.
	const mayBeBoundEarlier = earlierBindings(pk).length > 0;
	for (const field of untouched) {
		const stored = classifyStored(row?.[field]);
		if (stored.format === 'empty' || stored.format === 'plaintext') continue;
		if (stored.format === 'v2' && stored.keyId === ring.current.id && !mayBeBoundEarlier) continue;
		try {
			const ctx = { collection, field, pk };
			const opened = openStoredValue(ring, row![field], ctx);
			if (opened.outdated) payload[field] = sealForColumn(ring, opened.value, ctx, isJsonColumn(context.schema, collection, field));
		} catch {
			/* not openable with the configured keys: keep it untouched */
		}
	}
}
