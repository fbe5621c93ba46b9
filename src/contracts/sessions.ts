import { z } from 'zod';
import { isoTimestamp, optionalText, platformField, uuidField } from './fields.js';

/** Captured browser sessions: bodies and answers of store-, get- and revoke-platform-session. */

/** A browser cookie as extensions capture it; extra members (sameSite, hostOnly…) are kept as sent. */
export const BrowserCookie = z.looseObject({
	name: z.string({ error: 'cookie name required' }).min(1, 'cookie name required'),
	value: z.string({ error: 'cookie value must be a string' }),
	domain: z.string({ error: 'cookie domain required' }).min(1, 'cookie domain required'),
	path: z.string().optional(),
	expires: z.number().optional(),
	httpOnly: z.boolean().optional(),
	secure: z.boolean().optional(),
});

export const StorePlatformSessionBody = z.object({
	creator_profile_id: uuidField('creator_profile_id'),
	platform: platformField(),
	cookies: z.array(BrowserCookie, { error: 'cookies array required' }).min(1, 'cookies must not be empty').max(1000, 'at most 1000 cookies'),
	user_agent: optionalText('user_agent', 1000),
	expires_at: isoTimestamp('expires_at').nullish(),
});
export type StorePlatformSessionInput = z.infer<typeof StorePlatformSessionBody>;
export const StorePlatformSessionAnswer = z.object({ success: z.literal(true), id: z.string(), platform: z.string(), cookie_count: z.number().int() });

export const GetPlatformSessionBody = z.object({ creator_profile_id: uuidField('creator_profile_id'), platform: platformField() });
export type GetPlatformSessionInput = z.infer<typeof GetPlatformSessionBody>;
export const GetPlatformSessionAnswer = z.object({
	success: z.literal(true),
	id: z.string(),
	platform: z.string(),
	cookies: z.array(BrowserCookie),
	captured_at: z.string().nullable(),
	expires_at: z.string().nullable(),
	user_agent: z.string().nullable(),
});

export const RevokePlatformSessionBody = z.object({ id: uuidField('id') });
export type RevokePlatformSessionInput = z.infer<typeof RevokePlatformSessionBody>;
export const RevokePlatformSessionAnswer = z.object({ success: z.literal(true), id: z.string() });
