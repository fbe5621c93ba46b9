import { REVEAL_ROUTES, type ServerRoute } from '../contracts/identities.js';
import { ForbiddenError, RateLimitedError } from '../errors.js';
import { spend, type WindowCounter } from '../lib/rate-window.js';
import { recordAttempt } from './audit.js';
import type { Caller } from './caller.js';
import type { ServiceDeps } from './deps.js';
import { mayCallRoute } from './identity-scope.js';
import { reportAttempt } from './reveal.js';

/**
 * A machine identity at a server route, before its body is read: a route outside its scope is 403,
 * a reveal over its rate limit 429. Both are written to the audit and reported like a reveal — a
 * rate limit only on the first refusal of its minute, so a flood costs no writes. The shared secret
 * passes (every scope, no limit).
 */
export async function admitToRoute(deps: ServiceDeps, caller: Caller, route: ServerRoute, counter: WindowCounter): Promise<void> {
	if (caller.kind !== 'server' || !caller.identity) return;
	const reveals = REVEAL_ROUTES.includes(route);
	const refuse = async (outcome: 'refused' | 'rate-limited') => {
		const attempt = { route, collection: null, item: null, outcome };
		await recordAttempt(deps, caller, attempt).catch(() => undefined);
		if (reveals) reportAttempt(deps, caller, attempt);
	};
	if (!mayCallRoute(caller, route)) {
		await refuse('refused');
		throw new ForbiddenError({ reason: `This identity may not call /credentials/${route}` });
	}
	const limit = caller.identity.rateLimit;
	if (!reveals || limit === null) return;
	const { allowed, firstRefusal } = await spend(counter, `identity:${caller.identity.id}`, limit);
	if (allowed) return;
	if (firstRefusal) await refuse('rate-limited');
	throw new RateLimitedError({ reason: `This identity may reveal ${limit} value${limit === 1 ? '' : 's'} per minute: try again in a minute` });
}
