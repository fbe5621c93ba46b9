import type { GetPlatformSessionInput, RevokePlatformSessionInput, StorePlatformSessionInput } from '../contracts/sessions.js';
import { NotFoundError } from '../errors.js';
import { isoOrNull } from '../lib/dates.js';
import type { Caller, UserCaller } from './caller.js';
import { itemsService, ring, type ServiceDeps } from './deps.js';
import { revealField } from './reveal.js';
import { assertCallerMayTouch, keyFilter } from './rows.js';

const COLLECTION = 'platform_sessions';
const FIELD = 'encrypted_cookies';


export async function storePlatformSession(deps: ServiceDeps, caller: UserCaller, input: StorePlatformSessionInput) {
	const connection = await assertCallerMayTouch(deps, 'platform_connections', input.creator_profile_id, caller);
	const id = await itemsService(deps, COLLECTION, caller.accountability).createOne({
		creator_profile_id: connection,
		platform: input.platform,
		[FIELD]: input.cookies,
		cookie_count: input.cookies.length,
		user_agent: input.user_agent ?? null,
		expires_at: input.expires_at ?? null,
	});
	return { id: id as string, platform: input.platform, cookie_count: input.cookies.length };
}

/** Pages through the newest sessions first, so a profile with thousands of old ones costs one small read. */
async function newestActiveSession(deps: ServiceDeps, input: GetPlatformSessionInput, now: number) {
	const PAGE = 20;
	for (let page = 1; ; page++) {
		const candidates = (await itemsService(deps, COLLECTION, null).readByQuery(
			{
				filter: { _and: [keyFilter('creator_profile_id', input.creator_profile_id), { platform: { _eq: input.platform } }, { revoked_at: { _null: true } }] },
				fields: ['id', 'expires_at'],
				sort: ['-captured_at', '-id'],
				limit: PAGE,
				page,
			},
			{ emitEvents: false },
		)) as Record<string, unknown>[];
		// Expiry is compared here, in one clock, rather than in SQL where each database stores timestamps its own way.
		const active = candidates.find((s) => s['expires_at'] === null || new Date(s['expires_at'] as string).getTime() > now);
		if (active || candidates.length < PAGE) return active;
	}
}

export async function getPlatformSession(deps: ServiceDeps, caller: Caller, input: GetPlatformSessionInput) {
	ring(deps); // fail on a missing key before any read, as every reveal does
	const active = await newestActiveSession(deps, input, Date.now());
	if (!active) throw new NotFoundError({ reason: 'No active platform session found' });
	const revealed = await revealField(deps, caller, { collection: COLLECTION, field: FIELD, id: String(active['id']), route: 'get-platform-session', with: ['platform', 'captured_at', 'expires_at', 'user_agent'] });
	const { key: id, row: session, value: cookies } = revealed;
	return {
		id,
		platform: session['platform'] as string,
		cookies,
		captured_at: isoOrNull(session['captured_at']),
		expires_at: isoOrNull(session['expires_at']),
		user_agent: (session['user_agent'] as string | null) ?? null,
	};
}

export async function revokePlatformSession(deps: ServiceDeps, caller: UserCaller, input: RevokePlatformSessionInput) {
	const key = await assertCallerMayTouch(deps, COLLECTION, input.id, caller);
	await itemsService(deps, COLLECTION, caller.accountability).updateOne(key, { revoked_at: new Date().toISOString() });
	return { id: key };
}
