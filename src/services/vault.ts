import type { Accountability } from '@directus/types';
import type { VaultCreateInput, VaultEntryAnswer } from '../contracts/vault.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { unixSecondsOrNull } from '../lib/dates.js';
import type { Caller, UserCaller } from './caller.js';
import { itemsService, type ServiceDeps } from './deps.js';
import { revealField } from './reveal.js';
import { keyFilter } from './rows.js';

const COLLECTION = 'api_credentials';
const FIELD = 'encrypted_key';
const METADATA = ['id', 'service', 'name', 'created_at', 'last_used_at'];

const toEntry = (row: Record<string, unknown>): VaultEntryAnswer => ({
	id: row['id'] as string,
	service: row['service'] as string,
	name: row['name'] as string,
	created_at: unixSecondsOrNull(row['created_at'])!,
	last_used_at: unixSecondsOrNull(row['last_used_at']),
});

const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === 'RECORD_NOT_UNIQUE';

export async function createVaultEntry(deps: ServiceDeps, { accountability }: UserCaller, input: VaultCreateInput) {
	const service = itemsService(deps, COLLECTION, accountability);
	let id: string;
	try {
		id = await service.createOne({ service: input.service, name: input.name, [FIELD]: input.key });
	} catch (error) {
		if (isUniqueViolation(error)) throw new ConflictError({ reason: `A credential named "${input.name}" already exists for ${input.service}` });
		throw error;
	}
	const [row] = await itemsService(deps, COLLECTION, null).readByQuery({ filter: { id: { _eq: id } }, fields: METADATA, limit: 1 }, { emitEvents: false });
	return toEntry(row);
}

/** The caller's own entries — also for an admin, whose vault is theirs like anyone's. */
const ownFilter = (accountability: Accountability, extra: Record<string, unknown>[] = []) => ({ _and: [{ owner: { _eq: accountability.user } }, ...extra] });

export async function listVaultEntries(deps: ServiceDeps, { accountability }: UserCaller, serviceName?: string) {
	const rows = await itemsService(deps, COLLECTION, accountability).readByQuery({
		filter: ownFilter(accountability, serviceName ? [{ service: { _eq: serviceName } }] : []),
		fields: METADATA,
		sort: ['service', 'name'],
		limit: -1,
	});
	return (rows as Record<string, unknown>[]).map(toEntry);
}

/** Someone else's id and a missing id look the same: 404, nothing about the entry. */
export async function readVaultEntry(deps: ServiceDeps, { accountability }: UserCaller, id: string) {
	const [row] = await itemsService(deps, COLLECTION, accountability).readByQuery({ filter: ownFilter(accountability, [keyFilter('id', id)]), fields: METADATA, limit: 1 });
	if (!row) throw new NotFoundError({ reason: 'Not found' });
	return toEntry(row);
}

export async function deleteVaultEntry(deps: ServiceDeps, caller: UserCaller, id: string) {
	const entry = await readVaultEntry(deps, caller, id);
	await itemsService(deps, COLLECTION, caller.accountability).deleteOne(entry.id);
	return null;
}

export async function revealVaultKey(deps: ServiceDeps, caller: Caller, id: string) {
	const { key: rowKey, row, value: key } = await revealField(deps, caller, { collection: COLLECTION, field: FIELD, id, route: 'reveal-key', with: ['service', 'name'] });
	await itemsService(deps, COLLECTION, null).updateOne(rowKey, { last_used_at: new Date().toISOString() });
	return { id: rowKey, service: row['service'] as string, name: row['name'] as string, key: key as string };
}
