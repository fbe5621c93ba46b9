import { z } from 'zod';

/** The Directus action every reveal emits, for flows (an Event Hook trigger, type Action, scope `credentials.reveal`). */
export const REVEAL_EVENT = 'credentials.reveal';

/**
 * What the event carries (a flow reads it as `$trigger`, with Directus's own `event` beside it): the route,
 * the row, who asked and how it ended. Never the value.
 */
export const RevealEvent = z.object({
	route: z.string().describe('reveal, reveal-download-cred, get-platform-session, reveal-key or decrypt'),
	collection: z.string(),
	item: z.string().nullable().describe('the row revealed, or asked for; null when none was found to name'),
	caller: z.enum(['user', 'server']).describe('a Directus user, or a server process holding the shared secret'),
	user: z.string().nullable().describe("the user's id; null for the server secret"),
	outcome: z
		.enum(['revealed', 'not-found', 'refused', 'undecryptable', 'failed'])
		.describe('refused: the caller may not read the row; failed: anything else (the audit could not be written, no key)'),
});
export type RevealReport = z.infer<typeof RevealEvent>;
export type RevealOutcome = RevealReport['outcome'];
