import type { GetPlatformSessionInput, RevokePlatformSessionInput, StorePlatformSessionInput } from '../contracts/sessions.js';
import { NotFoundError } from '../errors.js';
import { isoOrNull, msOrNull } from '../lib/dates.js';
import type { Caller, UserCaller } from './caller.js';
import { itemsService, ring, type ServiceDeps } from './deps.js';
import { mayReachPlatform, mayReadCollection } from './identity-scope.js';
import { reporting, revealRow } from './reveal.js';
import { keySpellings } from '../crypto/index.js';
import { assertCallerMayTouch, type RawRow } from './rows.js';

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

const ANSWERED = ['platform', 'captured_at', 'expires_at', 'user_agent'];

// Expiry is compared here, in one clock, rather than in SQL where each database stores timestamps its own way.
const isActive = (now: number) => (s: Record<string, unknown>) => {
	const expires = msOrNull(s['expires_at']);
	return expires === null || expires > now;
};

/**
 * The newest session of one spelling of the profile's key that is neither revoked nor expired. The
 * newest one nearly always is, so it is read whole (its value too): one query, one range of the
 * platform_sessions_newest_by_profile index. Past it, pages of ids and expiries, so a profile with
 * thousands of old sessions costs small reads.
 * Plain SELECTs as the system, as reveal reads its row (rows.ts): no permissions or hooks apply here,
 * so ItemsService's query pipeline (AST, permission checks, payload processing) is work for nothing.
 * Dates come back as each database hands them over (a Date, text, SQLite's milliseconds): every
 * reader of them goes through lib/dates.
 */
async function newestActiveOf(deps: ServiceDeps, profile: string, platform: string, now: number): Promise<RawRow | undefined> {
	const unrevoked = () =>
		deps
			.database(COLLECTION)
			.where({ creator_profile_id: profile, platform })
			.whereNull('revoked_at')
			.orderBy([
				{ column: 'captured_at', order: 'desc' },
				{ column: 'id', order: 'desc' },
			]);
	const whole = ['id', FIELD, ...ANSWERED];
	const asRaw = (row: Record<string, unknown>): RawRow => ({ key: String(row['id']), row });
	const [newest] = (await unrevoked().select(whole).limit(1)) as Record<string, unknown>[];
	if (!newest) return undefined;
	if (isActive(now)(newest)) return asRaw(newest);
	const PAGE = 20;
	for (let offset = 1; ; offset += PAGE) {
		const candidates = (await unrevoked().select('id', 'expires_at').limit(PAGE).offset(offset)) as Record<string, unknown>[];
		// One revoked or deleted since its page was read is passed over, as if it had never been there.
		for (const { id } of candidates.filter(isActive(now))) {
			const [row] = (await deps.database(COLLECTION).select(whole).where({ id }).whereNull('revoked_at')) as Record<string, unknown>[];
			if (row) return asRaw(row);
		}
		if (candidates.length < PAGE) return undefined;
	}
}

/**
 * The profile's key as given first; its other spellings only when that one has no active session
 * (a case-sensitive database may hold the profile's key in another case). One filter over every
 * spelling (`in`) would cost the index its order: every session of the profile sorted, per request.
 */
async function newestActiveSession(deps: ServiceDeps, input: GetPlatformSessionInput, now: number): Promise<RawRow | undefined> {
	for (const spelling of keySpellings(input.creator_profile_id)) {
		const found = await newestActiveOf(deps, spelling, input.platform, now);
		if (found) return found;
	}
	return undefined;
}

export async function getPlatformSession(deps: ServiceDeps, caller: Caller, input: GetPlatformSessionInput) {
	const route = 'get-platform-session';
	const { key: id, row: session, value: cookies } = await reporting(deps, caller, { route, collection: COLLECTION, item: null }, async () => {
		ring(deps); // fail on a missing key before any read, as every reveal does
		const notFound = 'No active platform session found';
		// Outside a machine identity's scope: the same answer as no session, before any search (its timing and answer say nothing).
		if (!mayReadCollection(caller, COLLECTION) || !mayReachPlatform(caller, input.platform)) throw new NotFoundError({ reason: notFound });
		const active = await newestActiveSession(deps, input, Date.now());
		if (!active) throw new NotFoundError({ reason: notFound });
		return revealRow(deps, caller, { collection: COLLECTION, field: FIELD, route, notFound }, active);
	});
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
