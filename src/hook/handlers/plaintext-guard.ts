import { isSealed } from '../../crypto/index.js';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { PlaintextRefusedError } from './errors.js';

/**
 * The last line of defence, below Directus's services: every INSERT and UPDATE that Directus's
 * knex instance runs against a protected column must carry ciphertext (or null). Writes that
 * skip the filter hooks — `emitEvents: false` in a flow operation or another extension — are
 * refused here instead of storing plaintext.
 */
interface BuilderLike {
	_method?: string;
	_single?: { table?: unknown; insert?: unknown; update?: unknown };
}

export function assertNoPlaintext(fields: ProtectedFields, builder: BuilderLike): void {
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
			if (!isSealed(value)) throw new PlaintextRefusedError({ collection: table, field });
		}
	}
}
