import { z } from 'zod';

/** The Directus action every reveal emits, for flows (an Event Hook trigger, type Action, scope `credentials.reveal`). */
export const REVEAL_EVENT = 'credentials.reveal';

/**
 * What the event carries (a flow reads it as `$trigger`, with Directus's own `event` beside it): the route,
 * the row, who asked and how it ended. Never the value.
 */
export const RevealEvent = z.object({
	route: z.string().describe('reveal, reveal-download-cred, get-platform-session, reveal-key or decrypt'),
	collection: z.string().nullable().describe('null when the attempt named none (a route outside the identity’s scope, refused before its body was read)'),
	item: z.string().nullable().describe('the row revealed, or asked for; null when none was found to name'),
	caller: z.enum(['user', 'server']).describe('a Directus user, or a server process (a machine identity or the shared secret)'),
	identity: z.string().nullable().describe("the machine identity's name; null for the shared secret and for users"),
	user: z.string().nullable().describe("the user's id; null for server callers"),
	outcome: z
		.enum(['revealed', 'not-found', 'refused', 'undecryptable', 'rate-limited', 'failed'])
		.describe(
			"refused: the route is outside the identity's scope; rate-limited: the first reveal over the identity's limit in a minute; failed: anything else (the audit could not be written, no key)",
		),
});
export type RevealReport = z.infer<typeof RevealEvent>;
export type RevealOutcome = RevealReport['outcome'];
