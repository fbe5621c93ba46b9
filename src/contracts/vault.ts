import { z } from 'zod';
import { uuidField } from './fields.js';
import { MAX_VAULT_KEY_CHARS } from './limits.js';

/** The personal API-key vault: bodies, queries and answers. */
const REQUIRED = 'service, name, and key are required';
const SERVICE = /^(openai|anthropic|binance|custom\.[a-z0-9_-]{1,64})$/;

const trimmedRequired = z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string({ error: REQUIRED }).min(1, REQUIRED));

/** Presence first (one message for all three, as the seed), then each field's own rule. */
export const VaultCreateBody = z
	.object({ service: trimmedRequired, name: trimmedRequired, key: trimmedRequired }, { error: REQUIRED })
	.pipe(
		z.object({
			service: z.string().regex(SERVICE, 'service must be openai, anthropic, binance or custom.<name> (1-64 of a-z, 0-9, _ and -)'),
			name: z.string().max(128, 'name is longer than 128 characters'),
			key: z.string().max(MAX_VAULT_KEY_CHARS, `key is longer than ${MAX_VAULT_KEY_CHARS / 1024} KB`),
		}),
	);
export type VaultCreateInput = z.infer<typeof VaultCreateBody>;

export const VaultListQuery = z.object({ service: z.string().max(80).optional() });
export const VaultIdParams = z.object({ id: uuidField('id') });

export const VaultEntry = z.object({
	id: z.string(),
	service: z.string(),
	name: z.string(),
	created_at: z.number().int().describe('Unix time, seconds'),
	last_used_at: z.number().int().nullable().describe('Unix time, seconds'),
});
export type VaultEntryAnswer = z.infer<typeof VaultEntry>;

export const RevealKeyAnswer = z.object({ success: z.literal(true), id: z.string(), service: z.string(), name: z.string(), key: z.string() });
