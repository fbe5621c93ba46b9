import type { CreateDownloadCredInput, RevealDownloadCredInput } from '../contracts/download-credentials.js';
import type { Caller, UserCaller } from './caller.js';
import { itemsService, type ServiceDeps } from './deps.js';
import { revealField } from './reveal.js';
import { assertCallerMayTouch } from './rows.js';

const COLLECTION = 'download_credentials';
const FIELD = 'encrypted_credentials';

export async function createDownloadCredential(deps: ServiceDeps, caller: UserCaller, input: CreateDownloadCredInput) {
	const connection = await assertCallerMayTouch(deps, 'platform_connections', input.creator_profile_id, caller);
	const id = await itemsService(deps, COLLECTION, caller.accountability).createOne({
		platform: input.platform,
		creator_profile_id: connection,
		auth_type: input.auth_type,
		username: input.username ?? null,
		display_name: input.display_name ?? null,
		[FIELD]: input.credentials,
	});
	return { id: id as string };
}

export async function revealDownloadCredential(deps: ServiceDeps, caller: Caller, input: RevealDownloadCredInput) {
	const { key, row, value } = await revealField(deps, caller, { collection: COLLECTION, field: FIELD, id: input.id, route: 'reveal-download-cred', with: ['platform', 'auth_type', 'username'] });
	return { id: key, platform: row['platform'] as string, auth_type: row['auth_type'] as 'password' | 'cookies', username: (row['username'] as string | null) ?? null, credentials: value };
}
