import type { Accountability } from '@directus/types';
import { RouteError } from '../endpoint/http.js';
import { COLLECTIONS } from '../schema/collections.js';
import { itemsService, type ServiceDeps } from './deps.js';

type Row = Record<string, unknown>;

/** Reads one row as the system (ciphertext included), or answers 404. */
export async function readRaw(deps: ServiceDeps, collection: string, id: string, fields: string[], notFound = 'Not found'): Promise<Row> {
	const pk = deps.schema.collections[collection]?.primary ?? 'id';
	const [row] = await itemsService(deps, collection, null).readByQuery({ filter: { [pk]: { _eq: id } }, fields, limit: 1 }, { emitEvents: false });
	if (!row) throw new RouteError(404, notFound);
	return row as Row;
}

/**
 * The seed's contract distinguishes a missing row (404) from someone else's (403), so the row is
 * looked up first; the caller's own ItemsService call that follows enforces ownership again.
 */
export async function assertCallerMayTouch(deps: ServiceDeps, collection: string, id: string, accountability: Accountability): Promise<void> {
	const ownerField = COLLECTIONS.find((c) => c.collection === collection)!.ownerField;
	const row = await readRaw(deps, collection, id, ['id', ownerField]);
	if (!accountability.admin && row[ownerField] !== accountability.user) throw new RouteError(403, 'Forbidden');
}
