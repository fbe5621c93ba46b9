import { classifyStored } from '../../crypto/index.js';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { PlaintextRefusedError } from '../../errors.js';

/**
 * The last line of defence, below Directus's services: every INSERT and UPDATE that Directus's
 * knex instance runs against a protected column must carry a well-formed v2 envelope under a
 * configured key (or null). Writes that skip the filter hooks — `emitEvents: false` in another
 * extension, the rolled-back apply of a draft on `?version=` reads — are refused here instead of
 * storing plaintext, or something shaped like ciphertext (`cred:v2:<plaintext>`, a legacy value
 * that names no row, an envelope under a key nobody holds) that `status` would count as sealed.
 * Only the extension's own migration writes new envelopes from legacy ones; it never writes legacy.
 */
interface BuilderLike {
	_method?: string;
	_single?: { table?: unknown; insert?: unknown; update?: unknown };
}

/** The key ids of the configured keyring; null while it is not known (or not usable). */
export type ConfiguredKeyIds = () => ReadonlySet<string> | null;

export function assertNoPlaintext(fields: ProtectedFields, builder: BuilderLike, keyIds: ConfiguredKeyIds): void {
	const method = builder?._method;
	if (method !== 'insert' && method !== 'update' && method !== 'upsert') return;
	const table = builder._single?.table;
	if (typeof table !== 'string') return;
	const guarded = fields.of(table);
	if (guarded.length === 0) return;
	const data = method === 'update' ? builder._single?.update : builder._single?.insert;
	const rows = Array.isArray(data) ? data : [data];
	for (const row of rows) {
		if (!row || typeof row !== 'object') continue;
		for (const field of guarded) {
			const value = (row as Record<string, unknown>)[field];
			if (value === undefined || value === null) continue;
			const reason = whyNotSealed(value, keyIds());
			if (reason) throw new PlaintextRefusedError({ collection: table, field, reason });
		}
	}
}

/** Why a value may not be stored in a protected column, or null when it may. Never quotes the value. */
function whyNotSealed(value: unknown, keyIds: ReadonlySet<string> | null): string | null {
	const stored = classifyStored(value);
	switch (stored.format) {
		case 'plaintext':
			return 'plaintext';
		case 'legacy-string':
		case 'legacy-object':
			return 'a legacy value';
		case 'directus-encrypt':
			return "a value of Directus's encrypt special";
		case 'v2':
			if (!stored.keyId) return 'a malformed envelope';
			if (!keyIds) return 'an envelope, but no configured key is available';
			return keyIds.has(stored.keyId) ? null : `an envelope under key ${stored.keyId}, which is not configured`;
		default:
			return null;
	}
}
