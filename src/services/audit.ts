import type { Request } from 'express';
import type { Actor } from '../endpoint/auth.js';
import type { ServiceDeps } from './deps.js';

export interface RevealEvent {
	collection: string;
	item: string;
	route: string;
}

/**
 * One directus_activity entry per reveal: action `reveal`, the user (or none for the server
 * secret), the item, the IP and user agent, and in `origin` which route and which kind of caller.
 * Never the value. Written before the value is returned: no audit, no reveal.
 */
export async function recordReveal(deps: ServiceDeps, req: Request, actor: Actor, event: RevealEvent): Promise<void> {
	const accountability = (req as Request & { accountability?: { ip?: string | null; userAgent?: string } }).accountability;
	// A plain insert: ActivityService would run the whole item pipeline for a row only we write.
	await deps.database('directus_activity').insert({
		action: 'reveal',
		user: actor.kind === 'user' ? actor.accountability.user : null,
		collection: event.collection,
		item: event.item,
		ip: accountability?.ip ?? req.ip ?? null,
		user_agent: (accountability?.userAgent ?? req.get('user-agent') ?? '').slice(0, 1000),
		origin: `credentials/${event.route} by ${actor.kind === 'server' ? 'server secret' : 'user'}`,
		timestamp: new Date(),
	});
}
