import { randomUUID } from 'node:crypto';
import type { Accountability, SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import {
	classifyStored,
	DecryptError,
	openEnvelope,
	openLegacy,
	openStored,
	sealForColumn,
	type Keyring,
	type ValueContext,
} from '../../crypto/index.js';
import type { KeyringState } from '../../config/env.js';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { MASK } from './mask-on-read.js';
import { ForeignEnvelopeError, KeyNotConfiguredError, KeysUnavailableError, PrimaryKeyRequiredError } from './errors.js';

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
 * already opens for this exact row passes unchanged (no double encryption); an envelope for
 * another row, field or key is refused; a legacy value is opened and re-sealed in the new format.
 */
export function protectValue(ring: Keyring, value: unknown, ctx: ValueContext, jsonColumn: boolean): unknown {
	if (value === null || value === undefined) return null;
	const stored = classifyStored(value);
	try {
		switch (stored.format) {
			case 'v2':
				openEnvelope(ring, stored.sealed!, ctx);
				return jsonColumn ? { enc: stored.sealed } : stored.sealed;
			case 'legacy-string':
			case 'legacy-object':
				return sealForColumn(ring, openLegacy(ring, stored.sealed!), ctx, jsonColumn);
			default:
				return sealForColumn(ring, value, ctx, jsonColumn);
		}
	} catch (error) {
		// An envelope under a key that is not configured cannot be checked: say so, not "foreign".
		if (error instanceof DecryptError && error.reason === 'unknown-key' && stored.keyId) throw new KeyNotConfiguredError({ field: ctx.field, keyId: stored.keyId });
		if (error instanceof DecryptError) throw new ForeignEnvelopeError({ field: ctx.field });
		throw error;
	}
}

export async function protectCreate(deps: WriteDeps, payload: Payload, collection: string, context: WriteContext): Promise<Payload> {
	if (!payload || typeof payload !== 'object') return payload;
	const fields = fieldsToProtect(deps, collection, payload);
	if (fields.length === 0) return payload;
	const ring = await requireRing(deps);
	sealFields(ring, context.schema, collection, primaryKeyFor(context.schema, collection, payload), fields, payload);
	return payload;
}

/**
 * The key of the row a payload creates: the one it carries (or `known`), else a UUID assigned
 * now — a value is bound to its row, so the row's key must be known before it is written.
 */
export function primaryKeyFor(schema: SchemaOverview | null, collection: string, payload: Payload, known?: PrimaryKey | null): PrimaryKey {
	const info = schema?.collections[collection];
	const pkField = info?.primary ?? 'id';
	const pk = known ?? (payload[pkField] as PrimaryKey | undefined | null);
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
 * The next write of a row moves its other protected values to the current key: a value under a
 * previous key or in a legacy format is re-sealed in the same update. Undecryptable values are
 * left exactly as they are.
 */
async function resealUntouched(deps: WriteDeps, collection: string, pk: PrimaryKey, written: string[], payload: Payload, context: WriteContext) {
	const untouched = deps.fields.of(collection).filter((f) => !written.includes(f) && !(f in payload));
	if (untouched.length === 0 || !context.database) return;
	const state = await deps.keys();
	if (!state.ok) return;
	const ring = state.ring;
	const row = await currentRow(collection, pk, untouched, context);
	for (const field of untouched) {
		const stored = classifyStored(row?.[field]);
		const outdated = stored.format === 'legacy-string' || stored.format === 'legacy-object' || (stored.format === 'v2' && stored.keyId !== ring.current.id);
		if (!outdated) continue;
		try {
			const ctx = { collection, field, pk };
			payload[field] = sealForColumn(ring, openStored(ring, row![field], ctx), ctx, isJsonColumn(context.schema, collection, field));
		} catch {
			/* not openable with the configured keys: keep it untouched */
		}
	}
}
