import type { ProtectedFields } from '../../schema/protected-fields.js';

/**
 * Flow operations "Create Data" and "Update Data" write with events off unless "Emit Events" is
 * ticked, which would skip encryption (the plaintext guard then refuses the write). For
 * operations that write a collection with protected fields, events are switched on.
 */
const WRITING_OPERATIONS = new Set(['item-create', 'item-update']);

export function emitEventsForProtectedWrites(fields: ProtectedFields, payload: Record<string, unknown>): Record<string, unknown> {
	if (!payload || typeof payload !== 'object' || !WRITING_OPERATIONS.has(String(payload['type']))) return payload;
	const options = payload['options'];
	if (!options || typeof options !== 'object') return payload;
	const collection = (options as Record<string, unknown>)['collection'];
	if (typeof collection !== 'string' || fields.of(collection).length === 0) return payload;
	return { ...payload, options: { ...(options as object), emitEvents: true } };
}
