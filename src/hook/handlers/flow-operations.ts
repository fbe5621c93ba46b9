import { InvalidPayloadError } from '@directus/errors';
import type { Knex } from 'knex';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { isOwned } from '../../schema/ownership.js';
import { AUDIT_COLLECTION, IDENTITIES_COLLECTION, KEY_READERS_COLLECTION, KEYS_COLLECTION } from '../../schema/collections.js';
import { isRecord } from './schema-paths.js';

/**
 * Flow operations "Read/Create/Update/Delete Data" call ItemsService with events off unless
 * "Emit Events" is ticked — and with events off no filter hook runs: no owner guard, no
 * encryption, no mask, no append-only audit. So every item operation that can reach a protected or owned collection (or the audit, or identities) is
 * stored with events on, whatever the request sent: its collection names one, or is a template
 * (`{{$trigger.body.c}}`) that could name one when the flow runs. Operations stored before (an
 * older install, a direct database write) are fixed when the server starts.
 */
const ITEM_OPERATIONS = new Set(['item-read', 'item-create', 'item-update', 'item-delete']);
/** The audit (append-only), the identities (tokens hashed) and the keys: their guards are filters too. */
const GUARDED_RECORDS = new Set([AUDIT_COLLECTION, IDENTITIES_COLLECTION, KEYS_COLLECTION, KEY_READERS_COLLECTION]);

type Options = Record<string, unknown>;
export interface StoredOperation {
	id: string;
	type: string;
	options: Options | null;
}

/** Whether an operation of this type and options must emit events. */
export function mustEmitEvents(fields: ProtectedFields, type: unknown, options: unknown): boolean {
	if (!ITEM_OPERATIONS.has(String(type))) return false;
	const collection = isRecord(options) ? options['collection'] : undefined;
	if (typeof collection !== 'string') return true;
	return collection.includes('{{') || fields.of(collection).length > 0 || isOwned(collection) || GUARDED_RECORDS.has(collection);
}

const withEvents = (options: unknown): Options => ({ ...(isRecord(options) ? options : {}), emitEvents: true });

export function emitEventsOnCreate(fields: ProtectedFields, payload: Record<string, unknown>): Record<string, unknown> {
	if (!isRecord(payload) || !mustEmitEvents(fields, payload['type'], payload['options'])) return payload;
	return { ...payload, options: withEvents(payload['options']) };
}

/**
 * An update may send `options` without `type`, or `type` without `options`: each operation is
 * judged on what it will hold after the update — the payload over the stored row.
 */
export async function emitEventsOnUpdate(fields: ProtectedFields, payload: Record<string, unknown>, keys: (string | number)[], database: Knex): Promise<Record<string, unknown>> {
	if (!isRecord(payload) || (!('type' in payload) && !('options' in payload))) return payload;
	const stored = await readOperations(database, keys);
	const after = stored.map((op) => ({ type: payload['type'] ?? op.type, options: 'options' in payload ? payload['options'] : op.options }));
	const needing = after.filter((op) => mustEmitEvents(fields, op.type, op.options));
	if (needing.length === 0) return payload;
	if ('options' in payload) return { ...payload, options: withEvents(payload['options']) };
	// A type change alone: the stored options become the payload's, which must be one set for all keys.
	const distinct = new Set(needing.map((op) => JSON.stringify(op.options ?? {})));
	if (distinct.size > 1 || needing.length !== after.length) {
		throw new InvalidPayloadError({ reason: 'these operations hold different options: change their type one at a time, or send their options with the type' });
	}
	return { ...payload, options: withEvents(needing[0]!.options) };
}

export async function readOperations(database: Knex, keys?: (string | number)[]): Promise<StoredOperation[]> {
	const query = database('directus_operations').select('id', 'type', 'options');
	if (keys) query.whereIn('id', keys.map(String));
	const rows = (await query) as { id: string; type: string; options: unknown }[];
	return rows.map((row) => ({ id: String(row.id), type: row.type, options: parseOptions(row.options) }));
}

/** SQLite and MySQL hand JSON columns back as text. */
function parseOptions(options: unknown): Options | null {
	if (typeof options !== 'string') return isRecord(options) ? options : null;
	try {
		const parsed = JSON.parse(options) as unknown;
		return isRecord(parsed) ? parsed : null;
	} catch {
		return null;
	}
}

/** The stored operations that run with events off although they must not. */
export function operationsToFix(fields: ProtectedFields, operations: StoredOperation[]): StoredOperation[] {
	return operations.filter((op) => mustEmitEvents(fields, op.type, op.options) && op.options?.['emitEvents'] !== true);
}

/**
 * Fixes them through Directus's OperationsService, which reloads the flows (on every instance),
 * so no flow keeps running with the old options. Returns how many were fixed.
 */
export async function fixStoredOperations(fields: ProtectedFields, database: Knex, update: (id: string, options: Options) => Promise<unknown>): Promise<number> {
	const broken = operationsToFix(fields, await readOperations(database));
	for (const op of broken) await update(op.id, withEvents(op.options));
	return broken.length;
}
