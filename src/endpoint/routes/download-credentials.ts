import { z } from 'zod';
import { parseNetscapeCookies } from '../../lib/netscape-cookies.js';
import { createDownloadCredential, revealDownloadCredential } from '../../services/download-credentials.js';
import { accountabilityOf } from '../auth.js';
import { defineRoute } from '../route.js';
import { optionalText, platformField, uuidField } from '../schemas.js';

const PasswordCredentials = z.strictObject(
	{ password: z.string({ error: 'credentials.password required' }).min(1, 'credentials.password required') },
	{ error: 'credentials object required' },
);

const CookieCredentials = z.strictObject(
	{
		cookies_netscape: z
			.string({ error: 'credentials.cookies_netscape required' })
			.superRefine((text, ctx) => {
				const parsed = parseNetscapeCookies(text);
				if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `credentials.cookies_netscape is not a Netscape cookie file: ${parsed.error}` });
			}),
	},
	{ error: 'credentials object required' },
);

const common = {
	platform: platformField(),
	creator_profile_id: uuidField('creator_profile_id'),
	username: optionalText('username'),
	display_name: optionalText('display_name'),
};

export const CreateDownloadCredBody = z.discriminatedUnion(
	'auth_type',
	[
		z.object({ ...common, auth_type: z.literal('password'), credentials: PasswordCredentials }),
		z.object({ ...common, auth_type: z.literal('cookies'), credentials: CookieCredentials }),
	],
	{ error: 'auth_type must be "password" or "cookies"' },
);

export const RevealDownloadCredBody = z.object({ id: uuidField('id') });

export const downloadCredentialRoutes = [
	defineRoute({
		method: 'post',
		path: '/create-download-cred',
		auth: 'user',
		summary: 'Store yt-dlp credentials (password or Netscape cookies) for a connection the caller owns',
		input: { from: 'body', schema: CreateDownloadCredBody },
		response: z.object({ success: z.literal(true), id: z.string() }),
		handler: async (input, { deps, actor }) => ({ success: true, ...(await createDownloadCredential(deps, accountabilityOf(actor), input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/reveal-download-cred',
		auth: 'server',
		summary: 'Decrypt download credentials (server to server, audited)',
		input: { from: 'body', schema: RevealDownloadCredBody },
		response: z.object({
			success: z.literal(true),
			id: z.string(),
			platform: z.string(),
			auth_type: z.enum(['password', 'cookies']),
			credentials: z.record(z.string(), z.unknown()),
		}),
		handler: async (input, { deps, req, actor }) => ({ success: true, ...(await revealDownloadCredential(deps, req, actor, input)) }),
	}),
];
