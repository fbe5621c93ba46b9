import { z } from 'zod';
import { uuidField } from './fields.js';

/**
 * Machine identities: named, scoped, revocable callers of the server routes, each with its own token
 * (sent in the X-RBAC-SYNC-SECRET header, like the shared secret it replaces).
 */

/** The server routes an identity can be granted, by their path under /credentials. */
export const SERVER_ROUTES = ['reveal', 'reveal-download-cred', 'get-platform-session', 'reveal-key', 'decrypt', 'store', 'encrypt'] as const;
export type ServerRoute = (typeof SERVER_ROUTES)[number];
/** The routes that hand out a stored value: audited, reported, and counted by an identity's rate limit. */
export const REVEAL_ROUTES: readonly ServerRoute[] = ['reveal', 'reveal-download-cred', 'get-platform-session', 'reveal-key', 'decrypt'];

const names = (what: string) =>
	z
		.array(z.string().trim().min(1, `${what} must not be empty`).max(128, `${what} must be at most 128 characters each`))
		.max(100, `${what}: at most 100`)
		.nullable()
		.optional()
		.transform((list) => (list?.length ? [...new Set(list)] : null));

/** What an identity may do. A restriction left out (null or empty) does not restrict. */
export const IdentityScope = z.object({
	routes: z
		.array(z.enum(SERVER_ROUTES, { error: `routes are ${SERVER_ROUTES.join(', ')}` }))
		.min(1, 'routes: give at least one')
		.transform((list) => [...new Set(list)]),
	collections: names('collections').describe('only rows of these collections (decrypt, reveal-*); null: any'),
	platforms: names('platforms').describe("only rows whose `platform` column is one of these (rows without one are not restricted); null: any"),
	services: names('services').describe("only vault rows whose `service` is one of these (rows without one are not restricted); null: any"),
	rate_limit: z.number().int().min(1).max(1_000_000).nullable().optional().transform((n) => n ?? null).describe('reveals per minute, across instances; null: none'),
});
export type IdentityScopeInput = z.infer<typeof IdentityScope>;

export const CreateIdentityBody = IdentityScope.extend({
	name: z.string().trim().min(1, 'name is required').max(128, 'name is at most 128 characters').regex(/^[\w.@:-]+( [\w.@:-]+)*$/, 'name: letters, digits, spaces and . _ - @ :'),
	expires_at: z.iso
		.datetime({ offset: true, error: 'expires_at must be an ISO 8601 date and time' })
		.nullable()
		.optional()
		.transform((v) => (v ? new Date(v).toISOString() : null))
		.refine((v) => v === null || Date.parse(v) > Date.now(), 'expires_at must be in the future'),
});
export type CreateIdentityInput = z.infer<typeof CreateIdentityBody>;

export const IdentityView = z.object({
	id: z.string(),
	name: z.string(),
	routes: z.array(z.enum(SERVER_ROUTES)),
	collections: z.array(z.string()).nullable(),
	platforms: z.array(z.string()).nullable(),
	services: z.array(z.string()).nullable(),
	rate_limit: z.number().int().nullable(),
	expires_at: z.string().nullable(),
	revoked_at: z.string().nullable(),
	created_at: z.string().nullable(),
	last_used_at: z.string().nullable().describe('updated at most once a minute per instance'),
	active: z.boolean().describe('neither revoked nor expired'),
});
export type IdentityViewAnswer = z.infer<typeof IdentityView>;

export const CreateIdentityAnswer = IdentityView.extend({
	token: z.string().describe('shown once: only its SHA-256 digest is stored'),
});

export const IdentityIdParams = z.object({ id: uuidField('id') });
