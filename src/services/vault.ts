import type { Accountability } from '@directus/types';
import type { Request } from 'express';
import type { z } from 'zod';
import { openStored } from '../crypto/index.js';
import type { Actor } from '../endpoint/auth.js';
import { RouteError } from '../endpoint/http.js';
import type { VaultCreateBody } from '../endpoint/routes/vault.js';
import { recordReveal } from './audit.js';
import { itemsService, ring, type ServiceDeps } from './deps.js';
import { keyFilter, readRaw } from './rows.js';

const COLLECTION = 'api_credentials';
const FIELD = 'encrypted_key';
const METADATA = ['id', 'service', 'name', 'created_at', 'last_used_at'];

const seconds = (value: unknown) => (value === null || value === undefined ? null : Math.floor(new Date(value as string).getTime() / 1000));
const toEntry = (row: Record<string, unknown>) => ({
	id: row['id'] as string,
	service: row['service'] as string,
	name: row['name'] as string,
	created_at: seconds(row['created_at'])!,
	last_used_at: seconds(row['last_used_at']),
});

const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === 'RECORD_NOT_UNIQUE';

export async function createVaultEntry(deps: ServiceDeps, accountability: Accountability, input: z.infer<typeof VaultCreateBody>) {
	const service = itemsService(deps, COLLECTION, accountability);
	let id: string;
	try {
		id = await service.createOne({ service: input.service, name: input.name, [FIELD]: input.key });
	} catch (error) {
		if (isUniqueViolation(error)) throw new RouteError(409, `A credential named "${input.name}" already exists for ${input.service}`);
		throw error;
	}
	const [row] = await itemsService(deps, COLLECTION, null).readByQuery({ filter: { id: { _eq: id } }, fields: METADATA, limit: 1 }, { emitEvents: false });
	return toEntry(row);
}

/** The caller's own entries — also for an admin, whose vault is theirs like anyone's. */
const ownFilter = (accountability: Accountability, extra: Record<string, unknown>[] = []) => ({ _and: [{ owner: { _eq: accountability.user } }, ...extra] });

export async function listVaultEntries(deps: ServiceDeps, accountability: Accountability, serviceName?: string) {
	const rows = await itemsService(deps, COLLECTION, accountability).readByQuery({
		filter: ownFilter(accountability, serviceName ? [{ service: { _eq: serviceName } }] : []),
		fields: METADATA,
		sort: ['service', 'name'],
		limit: -1,
	});
	return (rows as Record<string, unknown>[]).map(toEntry);
}

/** Someone else's id and a missing id look the same: 404, nothing about the entry. */
export async function readVaultEntry(deps: ServiceDeps, accountability: Accountability, id: string) {
	const [row] = await itemsService(deps, COLLECTION, accountability).readByQuery({ filter: ownFilter(accountability, [keyFilter('id', id)]), fields: METADATA, limit: 1 });
	if (!row) throw new RouteError(404, 'Not found');
	return toEntry(row);
}

export async function deleteVaultEntry(deps: ServiceDeps, accountability: Accountability, id: string) {
	const entry = await readVaultEntry(deps, accountability, id);
	await itemsService(deps, COLLECTION, accountability).deleteOne(entry.id);
	return null;
}

export async function revealVaultKey(deps: ServiceDeps, req: Request, actor: Actor, id: string) {
	const keys = ring(deps);
	const { key: rowKey, row } = await readRaw(deps, COLLECTION, id, ['service', 'name', FIELD]);
	await recordReveal(deps, req, actor, { collection: COLLECTION, item: rowKey, route: 'reveal-key' });
	const key = openStored(keys, row[FIELD], { collection: COLLECTION, field: FIELD, pk: rowKey });
	await itemsService(deps, COLLECTION, null).updateOne(rowKey, { last_used_at: new Date().toISOString() });
	return { id: rowKey, service: row['service'] as string, name: row['name'] as string, key: key as string };
}
