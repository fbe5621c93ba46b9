import { z } from 'zod';

/** What the Data Studio's interface, display and key-health panel read: metadata only. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const required = (name: string) => z.string({ error: `${name} required` }).min(1, `${name} required`);

export const FieldStatusQuery = z.object({
	collection: required('collection').regex(NAME, 'collection must be 1-64 letters, digits, "_" or "-"'),
	field: required('field').regex(NAME, 'field must be 1-64 letters, digits, "_" or "-"'),
	id: required('id').max(255, 'id is longer than 255 characters'),
});
export type FieldStatusInput = z.infer<typeof FieldStatusQuery>;

export const FieldStatusAnswer = z.object({
	success: z.literal(true),
	set: z.boolean(),
	format: z.enum(['cred:v2', 'legacy', 'directus-encrypt', 'plaintext']).nullable().describe('null when not set'),
	key_id: z.string().nullable().describe('the key id of a cred:v2 value'),
	key_configured: z
		.boolean()
		.nullable()
		.describe('whether a key with that id is configured: when not, the value can be neither replaced nor cleared (409); null when the value names no key'),
	decryptable: z.boolean().nullable().describe('whether the configured keys open it; null when not set or plaintext'),
	updated_at: z.string().nullable().describe("ISO 8601: the row's date-updated (or date-created) field"),
});

/**
 * What `status` reports for one protected field. The counts by form are live (SQL, no decryption);
 * what only decrypting can tell comes from the last `verify`, null until one has run.
 */
export const FieldHealth = z.object({
	field: z.string(),
	rows: z.number().int(),
	empty: z.number().int(),
	byKeyId: z.record(z.string(), z.number().int()).describe('values per key id their envelope names'),
	legacy: z.number().int(),
	directusEncrypt: z.number().int().describe("values of Directus's own encrypt special, left in a field protected since: `credentials adopt-encrypt-special` re-seals them"),
	plaintext: z.number().int(),
	earlierBinding: z.number().int().nullable().describe("at the last verify: readable values bound to an earlier spelling of their row's key (rotate re-seals them); null: never verified"),
	undecryptable: z.number().int().nullable().describe('at the last verify: values no configured key opened; null: never verified'),
	verifiedAt: z.string().nullable().describe('ISO 8601: when `credentials verify` last checked this field; null: never'),
	missingKeyIds: z.array(z.string()).describe('key ids that rows use but no configured key has'),
});
export type FieldHealth = z.infer<typeof FieldHealth>;

/** The key hierarchy as this instance holds it: never a key, only ids, KEK labels and states. */
export const KeyHierarchyView = z.object({
	provider: z.string().nullable().describe('the KEK provider (local, pkcs11); null: data keys come from the environment only'),
	token: z.string().nullable().describe('the PKCS#11 token label; null for other providers'),
	wrapped: z.array(
		z.object({
			keyId: z.string(),
			kek: z.string().describe('label of the key-encryption key that wraps it'),
			state: z.enum(['pending', 'current', 'retired']),
			unwrapped: z.boolean().describe('whether this instance holds it unwrapped (in memory)'),
		}),
	),
	problem: z.string().nullable().describe('why a wrapped key is not unwrapped here (no key, PIN or secret in it); null: none'),
});

export const KeyHealthAnswer = z.object({
	success: z.literal(true),
	keys: z.object({ current: z.string(), previous: z.array(z.string()) }),
	kek: KeyHierarchyView,
	fields: z.array(FieldHealth),
	missingKeyIds: z.array(z.string()),
});

/** The key-health panel's "Encrypt" button: `encrypt-existing` for one protected field (admins). */
export const EncryptExistingBody = z.object({
	collection: required('collection').regex(NAME, 'collection must be 1-64 letters, digits, "_" or "-"'),
	field: required('field').regex(NAME, 'field must be 1-64 letters, digits, "_" or "-"'),
});
export type EncryptExistingInput = z.infer<typeof EncryptExistingBody>;

export const EncryptExistingAnswer = z.object({
	success: z.literal(true),
	field: z.string().describe('collection.field'),
	sealed: z.number().int().describe('plaintext values sealed now'),
	changedConcurrently: z.number().int().describe('values written meanwhile by someone else, left as they were written (sealed by the hook)'),
	remaining: z.number().int().describe('plaintext values still in the field afterwards'),
});
