import type { Caller } from './caller.js';
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
export async function recordReveal(deps: ServiceDeps, caller: Caller, event: RevealEvent): Promise<void> {
	// A plain insert: ActivityService would run the whole item pipeline for a row only we write.
	await deps.database('directus_activity').insert({
		action: 'reveal',
		user: caller.user,
		collection: event.collection,
		item: event.item,
		ip: caller.ip,
		user_agent: caller.userAgent.slice(0, 1000),
		origin: `credentials/${event.route} by ${caller.kind === 'server' ? 'server secret' : 'user'}`,
		timestamp: new Date(),
	});
}
