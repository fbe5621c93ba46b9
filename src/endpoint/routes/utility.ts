import { z } from 'zod';
import { decryptUtility, encryptUtility } from '../../services/utility.js';
import { defineRoute } from '../route.js';

export const EncryptBody = z.object({
	data: z.unknown().refine((v) => v !== undefined, 'data required'),
});

const Sealed = z.union([z.string(), z.object({ enc: z.string() })], { error: 'encrypted must be { enc } or an iv:authTag:ciphertext string' });

export const DecryptBody = z.union(
	[
		z.object({ encrypted: Sealed }),
		z.object({
			collection: z.string().min(1).max(64),
			id: z.union([z.string().min(1).max(255), z.number().int()]),
			field: z.string().min(1).max(64),
		}),
	],
	{ error: 'encrypted, or collection, id and field, required' },
);

export const utilityRoutes = [
	defineRoute({
		method: 'post',
		path: '/encrypt',
		auth: 'server',
		summary: 'Encrypt any JSON value for a trusted server process; not bound to a row',
		input: { from: 'body', schema: EncryptBody },
		response: z.object({ success: z.literal(true), encrypted: z.object({ enc: z.string() }) }),
		handler: async (input, { deps }) => ({ success: true, encrypted: encryptUtility(deps, input.data) }),
	}),
	defineRoute({
		method: 'post',
		path: '/decrypt',
		auth: 'server',
		summary: 'Decrypt a value from /encrypt or a legacy value, or a protected field of a row (audited)',
		input: { from: 'body', schema: DecryptBody },
		response: z.object({ success: z.literal(true), data: z.unknown() }),
		handler: async (input, { deps, req, actor }) => ({ success: true, data: await decryptUtility(deps, req, actor, input) }),
	}),
];
