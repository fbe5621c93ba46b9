import type { Accountability } from '@directus/types';
import type { Request } from 'express';
import type { z } from 'zod';
import { openStored } from '../crypto/index.js';
import type { Actor } from '../endpoint/auth.js';
import { RouteError } from '../endpoint/http.js';
import type { CreateProfileBody, RevealBody, StoreBody, UpdateProfileCredsBody } from '../endpoint/routes/connections.js';
import { recordReveal } from './audit.js';
import { itemsService, ring, type ServiceDeps } from './deps.js';
import { assertCallerMayTouch, readRaw } from './rows.js';

const COLLECTION = 'platform_connections';
const FIELD = 'encrypted_credentials';

/** The three fields the seed's store writes; the hook encrypts the credentials on the way in. */
const credentialValues = (credentials: unknown) => ({
	[FIELD]: credentials,
	credentials_version: 'v1',
	credentials_updated_at: new Date().toISOString(),
});

export async function createProfile(deps: ServiceDeps, accountability: Accountability, input: z.infer<typeof CreateProfileBody>) {
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

export async function updateProfileCredentials(deps: ServiceDeps, accountability: Accountability, input: z.infer<typeof UpdateProfileCredsBody>) {
	const key = await assertCallerMayTouch(deps, COLLECTION, input.creator_profile_id, accountability);
	await itemsService(deps, COLLECTION, accountability).updateOne(key, {
		...credentialValues(input.credentials),
		...(input.platform_username !== undefined && { platform_username: input.platform_username }),
	});
	return { id: key };
}

export async function storeConnection(deps: ServiceDeps, input: z.infer<typeof StoreBody>) {
	const { key } = await readRaw(deps, COLLECTION, input.creatorProfileId, []);
	await itemsService(deps, COLLECTION, null).updateOne(key, credentialValues(input.credentials));
	return { creatorProfileId: key, updated: key };
}

export async function revealConnection(deps: ServiceDeps, req: Request, actor: Actor, input: z.infer<typeof RevealBody>) {
	const keys = ring(deps);
	const notFound = 'No encrypted_credentials found';
	const { key, row } = await readRaw(deps, COLLECTION, input.creatorProfileId, [FIELD], notFound);
	if (row[FIELD] === null || row[FIELD] === undefined) throw new RouteError(404, notFound);
	await recordReveal(deps, req, actor, { collection: COLLECTION, item: key, route: 'reveal' });
	const credentials = openStored(keys, row[FIELD], { collection: COLLECTION, field: FIELD, pk: key });
	return { creatorProfileId: key, credentials };
}
