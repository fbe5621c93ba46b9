import { randomUUID } from 'node:crypto';
import type { SchemaOverview } from '@directus/types';
import { boundKey, classifyStored, DecryptError, isUuid, openStoredValue, sealForColumn, type Keyring, type ValueContext } from '../crypto/index.js';
import { DirectusEncryptRefusedError, ForeignEnvelopeError, KeyNotConfiguredError, LegacyValueRefusedError, PrimaryKeyRequiredError } from '../errors.js';
import { MASK } from '../lib/mask.js';
import type { ProtectedFields } from '../schema/protected-fields.js';

/**
 * The protection codec: how one row's payload becomes what its protected columns store — which
 * fields it writes, the row key they are bound to, each value sealed (or an envelope of this very
 * row kept). Pure: every function returns a new payload and leaves its input as it was; no
 * database and no Directus service here. The item hook, the draft sealer and the revision sealer
 * all call it, and none of them calls another.
 */
type Payload = Record<string, unknown>;
export type PrimaryKey = string | number;

/**
 * The payload without the protected fields that only echo the mask, and the protected fields it
 * does write. A client that read the row and sends it back unchanged must not overwrite the secret
 * with the mask.
 */
export function withoutMaskEchoes(fields: ProtectedFields, collection: string, payload: Payload): { payload: Payload; written: string[] } {
	const written: string[] = [];
	let out = payload;
	for (const field of fields.of(collection)) {
		if (!(field in payload)) continue;
		if (payload[field] !== MASK) written.push(field);
		else {
			if (out === payload) out = { ...payload };
			delete out[field];
		}
	}
	return { payload: out, written };
}

/**
 * What `/store` writes beside a new secret, written by every path that carries one (the Data Studio's
 * save, REST, GraphQL, imports, flows): when the credentials changed, and in which contract version.
 * Only where the collection has those fields, and not for a value already sealed (an envelope sent
 * back, a rotation) nor for a clear.
 */
const CHANGE_STAMPS: Record<string, () => string> = {
	credentials_updated_at: () => new Date().toISOString(),
	credentials_version: () => 'v1',
};

export function withChangeStamps(schema: SchemaOverview | null, collection: string, written: readonly string[], payload: Payload): Payload {
	const fields = schema?.collections[collection]?.fields;
	if (!fields || !written.some((field) => classifyStored(payload[field]).format === 'plaintext')) return payload;
	const stamps = Object.entries(CHANGE_STAMPS).filter(([field]) => fields[field] && !(field in payload));
	return stamps.length === 0 ? payload : { ...payload, ...Object.fromEntries(stamps.map(([field, value]) => [field, value()])) };
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
	if (stored.format === 'directus-encrypt') throw new DirectusEncryptRefusedError({ field: ctx.field });
	try {
		const opened = openStoredValue(ring, value, ctx, stored);
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
 * values are bound to. `created` names the field and key when the payload carries a UUID key.
 */
export function withCanonicalKey(schema: SchemaOverview | null, collection: string, payload: Payload): { payload: Payload; created: { field: string; key: string } | null } {
	const field = schema?.collections[collection]?.primary ?? 'id';
	const pk = payload[field];
	if (!isUuid(pk)) return { payload, created: null };
	const key = boundKey(pk);
	return { payload: key === pk ? payload : { ...payload, [field]: key }, created: { field, key } };
}

/**
 * The key of the row a payload creates: the one it carries (or `known`), else a UUID assigned
 * now — a value is bound to its row, so the row's key must be known before it is written.
 */
export function withPrimaryKey(schema: SchemaOverview | null, collection: string, payload: Payload, known?: PrimaryKey | null): { payload: Payload; pk: PrimaryKey } {
	if (known !== undefined && known !== null) return { payload, pk: known };
	const canonical = withCanonicalKey(schema, collection, payload).payload;
	const info = schema?.collections[collection];
	const pkField = info?.primary ?? 'id';
	const pk = canonical[pkField] as PrimaryKey | undefined | null;
	if (pk !== undefined && pk !== null) return { payload: canonical, pk };
	if (info && info.fields[pkField]?.type !== 'uuid') throw new PrimaryKeyRequiredError({ collection });
	const assigned = randomUUID();
	return { payload: { ...canonical, [pkField]: assigned }, pk: assigned };
}

/** The payload with the given protected fields sealed for one row (a new object; the input is left as it was). */
export function sealFields(ring: Keyring, schema: SchemaOverview | null, collection: string, pk: PrimaryKey, fields: readonly string[], payload: Payload): Payload {
	if (fields.length === 0) return payload;
	const out = { ...payload };
	for (const field of fields) out[field] = protectValue(ring, payload[field], { collection, field, pk }, isJsonColumn(schema, collection, field));
	return out;
}
