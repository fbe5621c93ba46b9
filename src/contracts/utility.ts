import { z } from 'zod';

/** The encrypt/decrypt utility: bodies and answers. */
export const EncryptBody = z.object({
	data: z.unknown().refine((v) => v !== undefined, 'data required'),
});
export const EncryptAnswer = z.object({ success: z.literal(true), encrypted: z.object({ enc: z.string() }) });

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
export type DecryptInput = z.infer<typeof DecryptBody>;
export const DecryptAnswer = z.object({ success: z.literal(true), data: z.unknown() });
