import { z } from 'zod';
import { getPlatformSession, revokePlatformSession, storePlatformSession } from '../../services/sessions.js';
import { accountabilityOf } from '../auth.js';
import { defineRoute } from '../route.js';
import { isoTimestamp, optionalText, platformField, uuidField } from '../schemas.js';

/** A browser cookie as extensions capture it; extra members (sameSite, hostOnly…) are kept as sent. */
const BrowserCookie = z.looseObject({
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

export const GetPlatformSessionBody = z.object({ creator_profile_id: uuidField('creator_profile_id'), platform: platformField() });
export const RevokePlatformSessionBody = z.object({ id: uuidField('id') });

export const sessionRoutes = [
	defineRoute({
		method: 'post',
		path: '/store-platform-session',
		auth: 'user',
		summary: 'Store browser cookies captured for a connection the caller owns',
		input: { from: 'body', schema: StorePlatformSessionBody },
		response: z.object({ success: z.literal(true), id: z.string(), platform: z.string(), cookie_count: z.number().int() }),
		handler: async (input, { deps, actor }) => ({ success: true, ...(await storePlatformSession(deps, accountabilityOf(actor), input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/get-platform-session',
		auth: 'server',
		summary: 'The newest session that is neither revoked nor expired, decrypted (server to server, audited)',
		input: { from: 'body', schema: GetPlatformSessionBody },
		response: z.object({
			success: z.literal(true),
			id: z.string(),
			platform: z.string(),
			cookies: z.array(BrowserCookie),
			captured_at: z.string().nullable(),
			expires_at: z.string().nullable(),
			user_agent: z.string().nullable(),
		}),
		handler: async (input, { deps, req, actor }) => ({ success: true, ...(await getPlatformSession(deps, req, actor, input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/revoke-platform-session',
		auth: 'user',
		summary: 'Revoke a platform session the caller owns; it is never returned again',
		input: { from: 'body', schema: RevokePlatformSessionBody },
		response: z.object({ success: z.literal(true), id: z.string() }),
		handler: async (input, { deps, actor }) => ({ success: true, ...(await revokePlatformSession(deps, accountabilityOf(actor), input)) }),
	}),
];
