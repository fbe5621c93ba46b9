import type { CreateProfileInput, RevealInput, StoreInput, UpdateProfileCredsInput } from '../contracts/connections.js';
import type { Caller, UserCaller } from './caller.js';
import { itemsService, type ServiceDeps } from './deps.js';
import { NotFoundError } from '../errors.js';
import { mayReadCollection, rowInScope, scopeColumns } from './identity-scope.js';
import { revealField } from './reveal.js';
import { assertCallerMayTouch, readRaw } from './rows.js';

const COLLECTION = 'platform_connections';
const FIELD = 'encrypted_credentials';

/** The three fields the seed's store writes; the hook encrypts the credentials on the way in. */
const credentialValues = (credentials: unknown) => ({
	[FIELD]: credentials,
	credentials_version: 'v1',
	credentials_updated_at: new Date().toISOString(),
});

/**
 * The caller's own connection for this platform and username, even when the caller is an admin. A
 * plain SELECT on the platform_connections_by_owner index: it reads only rows the caller owns, and
 * the write that follows goes through ItemsService with the caller's accountability either way —
 * through ItemsService this lookup cost create-profile a tenth of its throughput.
 */
async function ownConnection(deps: ServiceDeps, owner: string, platform: string, username: string | null): Promise<string | undefined> {
	const query = deps.database(COLLECTION).select('id').where({ owner, platform });
	const row = await (username === null ? query.whereNull('platform_username') : query.andWhere('platform_username', username)).orderBy('date_created').first();
	return row ? String(row.id) : undefined;
}

export async function createProfile(deps: ServiceDeps, { accountability, user }: UserCaller, input: CreateProfileInput) {
	const service = itemsService(deps, COLLECTION, accountability);
	const username = input.platform_username ?? null;
	const existing = await ownConnection(deps, user, input.platform, username);
	if (existing) {
		await service.updateOne(existing, credentialValues(input.credentials));
		return { id: existing, updated: true };
	}
	const id = await service.createOne({ platform: input.platform, platform_username: username, ...credentialValues(input.credentials) });
	return { id: id as string, updated: false };
}

export async function updateProfileCredentials(deps: ServiceDeps, caller: UserCaller, input: UpdateProfileCredsInput) {
	const key = await assertCallerMayTouch(deps, COLLECTION, input.creator_profile_id, caller);
	await itemsService(deps, COLLECTION, caller.accountability).updateOne(key, {
		...credentialValues(input.credentials),
		...(input.platform_username !== undefined && { platform_username: input.platform_username }),
	});
	return { id: key };
}

export async function storeConnection(deps: ServiceDeps, caller: Caller, input: StoreInput) {
	if (!mayReadCollection(caller, COLLECTION)) throw new NotFoundError({ reason: 'Not found' });
	const columns = deps.schema.collections[COLLECTION]?.fields ?? {};
	const { key, row } = await readRaw(deps, COLLECTION, input.creatorProfileId, scopeColumns(caller, columns));
	// A connection outside a machine identity's platforms is missing to it, as on reveal.
	if (!rowInScope(caller, row, columns)) throw new NotFoundError({ reason: 'Not found' });
	await itemsService(deps, COLLECTION, null).updateOne(key, credentialValues(input.credentials));
	return { creatorProfileId: key, updated: key };
}

export async function revealConnection(deps: ServiceDeps, caller: Caller, input: RevealInput) {
	const target = { collection: COLLECTION, field: FIELD, id: input.creatorProfileId, route: 'reveal', notFound: 'No encrypted_credentials found', emptyIsMissing: true };
	const { key, value } = await revealField(deps, caller, target);
	return { creatorProfileId: key, credentials: value };
}
