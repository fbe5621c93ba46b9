import type { Accountability } from '@directus/types';
import type { Request } from 'express';
import type { z } from 'zod';
import { openStored } from '../crypto/index.js';
import type { Actor } from '../endpoint/auth.js';
import type { CreateDownloadCredBody, RevealDownloadCredBody } from '../endpoint/routes/download-credentials.js';
import { recordReveal } from './audit.js';
import { itemsService, ring, type ServiceDeps } from './deps.js';
import { assertCallerMayTouch, readRaw } from './rows.js';

const COLLECTION = 'download_credentials';
const FIELD = 'encrypted_credentials';

export async function createDownloadCredential(deps: ServiceDeps, accountability: Accountability, input: z.infer<typeof CreateDownloadCredBody>) {
	const connection = await assertCallerMayTouch(deps, 'platform_connections', input.creator_profile_id, accountability);
	const id = await itemsService(deps, COLLECTION, accountability).createOne({
		platform: input.platform,
		creator_profile_id: connection,
		auth_type: input.auth_type,
		username: input.username ?? null,
		display_name: input.display_name ?? null,
		[FIELD]: input.credentials,
	});
	return { id: id as string };
}

export async function revealDownloadCredential(deps: ServiceDeps, req: Request, actor: Actor, input: z.infer<typeof RevealDownloadCredBody>) {
	const keys = ring(deps);
	const { key, row } = await readRaw(deps, COLLECTION, input.id, ['platform', 'auth_type', FIELD]);
	await recordReveal(deps, req, actor, { collection: COLLECTION, item: key, route: 'reveal-download-cred' });
	const credentials = openStored(keys, row[FIELD], { collection: COLLECTION, field: FIELD, pk: key });
	return { id: key, platform: row['platform'] as string, auth_type: row['auth_type'] as 'password' | 'cookies', credentials };
}
