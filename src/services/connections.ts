import type { CreateProfileInput, RevealInput, StoreInput, UpdateProfileCredsInput } from '../contracts/connections.js';
import type { Caller, UserCaller } from './caller.js';
import { itemsService, type ServiceDeps } from './deps.js';
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

export async function createProfile(deps: ServiceDeps, { accountability }: UserCaller, input: CreateProfileInput) {
	const service = itemsService(deps, COLLECTION, accountability);
	const username = input.platform_username ?? null;
	// The caller's own connection for this platform and username, even when the caller is an admin.
	const [existing] = await service.readByQuery({
		filter: {
			_and: [
				{ owner: { _eq: accountability.user } },
				{ platform: { _eq: input.platform } },
				username === null ? { platform_username: { _null: true } } : { platform_username: { _eq: username } },
			],
		},
		fields: ['id'],
		sort: ['date_created'],
		limit: 1,
	});
	if (existing) {
		await service.updateOne(existing.id, credentialValues(input.credentials));
		return { id: existing.id as string, updated: true };
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

export async function storeConnection(deps: ServiceDeps, input: StoreInput) {
	const { key } = await readRaw(deps, COLLECTION, input.creatorProfileId, []);
	await itemsService(deps, COLLECTION, null).updateOne(key, credentialValues(input.credentials));
	return { creatorProfileId: key, updated: key };
}

export async function revealConnection(deps: ServiceDeps, caller: Caller, input: RevealInput) {
	const target = { collection: COLLECTION, field: FIELD, id: input.creatorProfileId, route: 'reveal', notFound: 'No encrypted_credentials found', emptyIsMissing: true };
	const { key, value } = await revealField(deps, caller, target);
	return { creatorProfileId: key, credentials: value };
}
