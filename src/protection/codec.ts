import { randomUUID } from 'node:crypto';
import type { SchemaOverview } from '@directus/types';
import { boundKey, classifyStored, DecryptError, isUuid, openStoredValue, sealForColumn, type Keyring, type ValueContext } from '../crypto/index.js';
import { ForeignEnvelopeError, KeyNotConfiguredError, LegacyValueRefusedError, PrimaryKeyRequiredError } from '../errors.js';
import { MASK } from '../lib/mask.js';
import type { ProtectedFields } from '../schema/protected-fields.js';

/**
 * The protection codec: how one row's payload becomes what its protected columns store — which
 * fields it writes, the row key they are bound to, each value sealed (or an envelope of this very
 * row kept). No database and no Directus service here: the item hook, the draft sealer and the
 * revision sealer all call it, and none of them calls another.
 */
type Payload = Record<string, unknown>;
export type PrimaryKey = string | number;

/** The protected fields this payload writes, without the ones that only echo the mask. */
export function fieldsToProtect(fields: ProtectedFields, collection: string, payload: Payload): string[] {
	const present: string[] = [];
	for (const field of fields.of(collection)) {
		if (!(field in payload)) continue;
		// A client that read the row and sends it back unchanged must not overwrite the secret with the mask.
		if (payload[field] === MASK) delete payload[field];
		else present.push(field);
	}
	return present;
}

export function isJsonColumn(schema: SchemaOverview | null, collection: string, field: string): boolean {
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

/**
 * A UUID key a create payload carries is stored in its canonical (lower-case) form, the form its
 * values are bound to. Returns the field and key when there was one to canonicalize.
 */
export function canonicalizeKey(schema: SchemaOverview | null, collection: string, payload: Payload): { field: string; key: string } | null {
	const field = schema?.collections[collection]?.primary ?? 'id';
	const pk = payload[field];
	if (!isUuid(pk)) return null;
	return { field, key: (payload[field] = boundKey(pk)) };
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
