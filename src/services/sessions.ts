import type { Accountability } from '@directus/types';
import type { Request } from 'express';
import type { z } from 'zod';
import { openStored } from '../crypto/index.js';
import type { Actor } from '../endpoint/auth.js';
import { RouteError } from '../endpoint/http.js';
import type { GetPlatformSessionBody, RevokePlatformSessionBody, StorePlatformSessionBody } from '../endpoint/routes/sessions.js';
import { recordReveal } from './audit.js';
import { itemsService, ring, type ServiceDeps } from './deps.js';
import { assertCallerMayTouch, keyFilter, readRaw } from './rows.js';

const COLLECTION = 'platform_sessions';
const FIELD = 'encrypted_cookies';

const iso = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string).toISOString());

export async function storePlatformSession(deps: ServiceDeps, accountability: Accountability, input: z.infer<typeof StorePlatformSessionBody>) {
	const connection = await assertCallerMayTouch(deps, 'platform_connections', input.creator_profile_id, accountability);
	const id = await itemsService(deps, COLLECTION, accountability).createOne({
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
async function newestActiveSession(deps: ServiceDeps, input: z.infer<typeof GetPlatformSessionBody>, now: number) {
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

export async function getPlatformSession(deps: ServiceDeps, req: Request, actor: Actor, input: z.infer<typeof GetPlatformSessionBody>) {
	const keys = ring(deps);
	const active = await newestActiveSession(deps, input, Date.now());
	if (!active) throw new RouteError(404, 'No active platform session found');
	const { key: id, row: session } = await readRaw(deps, COLLECTION, String(active['id']), ['platform', FIELD, 'captured_at', 'expires_at', 'user_agent']);
	await recordReveal(deps, req, actor, { collection: COLLECTION, item: id, route: 'get-platform-session' });
	const cookies = openStored(keys, session[FIELD], { collection: COLLECTION, field: FIELD, pk: id });
	return {
		id,
		platform: session['platform'] as string,
		cookies,
		captured_at: iso(session['captured_at']),
		expires_at: iso(session['expires_at']),
		user_agent: (session['user_agent'] as string | null) ?? null,
	};
}

export async function revokePlatformSession(deps: ServiceDeps, accountability: Accountability, input: z.infer<typeof RevokePlatformSessionBody>) {
	const key = await assertCallerMayTouch(deps, COLLECTION, input.id, accountability);
	await itemsService(deps, COLLECTION, accountability).updateOne(key, { revoked_at: new Date().toISOString() });
	return { id: key };
}
