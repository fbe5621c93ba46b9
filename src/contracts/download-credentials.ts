import { z } from 'zod';
import { parseNetscapeCookies } from '../lib/netscape-cookies.js';
import { optionalText, platformField, uuidField } from './fields.js';

/** yt-dlp download credentials: bodies and answers of create-download-cred and reveal-download-cred. */
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
export type CreateDownloadCredInput = z.infer<typeof CreateDownloadCredBody>;
export const CreateDownloadCredAnswer = z.object({ success: z.literal(true), id: z.string() });

export const RevealDownloadCredBody = z.object({ id: uuidField('id') });
export type RevealDownloadCredInput = z.infer<typeof RevealDownloadCredBody>;
export const RevealDownloadCredAnswer = z.object({
	success: z.literal(true),
	id: z.string(),
	platform: z.string(),
	auth_type: z.enum(['password', 'cookies']),
	/** The stored username (null when none): yt-dlp takes it with the password. Not in the seed's example; added. */
	username: z.string().nullable(),
	credentials: z.record(z.string(), z.unknown()),
});
