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
		.array(z.enum(SERVER_ROUTES, { error: `routes are ${SERVER_ROUTES.join(', ')}` }), { error: `routes: a list of ${SERVER_ROUTES.join(', ')}` })
		.min(1, 'routes: give at least one')
		.transform((list) => [...new Set(list)]),
	collections: names('collections').describe('only rows of these collections (decrypt, reveal-*); null: any'),
	platforms: names('platforms').describe('only rows whose `platform` is one of these (a row with none is refused; collections without the column are not restricted); null: any'),
	services: names('services').describe('only rows whose `service` is one of these (a row with none is refused; collections without the column are not restricted); null: any'),
	rate_limit: z.number().int().min(1).max(1_000_000).nullable().optional().transform((n) => n ?? null).describe('requests to the reveal routes per minute, across instances; null: none'),
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

/** The audit of record, as the Studio's "Credential reveals" panel and GET /credentials/audit read it. */
const OUTCOMES = ['revealed', 'not-found', 'refused', 'undecryptable', 'rate-limited'] as const;
const CALLERS = ['identity', 'shared-secret', 'user'] as const;
const positive = (name: string, max: number, fallback: number) =>
	z.coerce.number({ error: `${name} must be a whole number` }).int(`${name} must be a whole number`).min(1, `${name} must be at least 1`).max(max, `${name} is at most ${max}`).default(fallback);

export const AuditQuery = z.object({
	page: positive('page', 1_000_000, 1),
	limit: positive('limit', 100, 25),
	days: positive('days', 366, 30).describe('the summary covers this many days up to now (UTC days)'),
	identity: uuidField('identity').transform((id) => id.toLowerCase()).optional(),
	route: z.enum(SERVER_ROUTES, { error: `route is one of ${SERVER_ROUTES.join(', ')}` }).optional(),
	outcome: z.enum(OUTCOMES, { error: `outcome is one of ${OUTCOMES.join(', ')}` }).optional(),
	caller: z.enum(CALLERS, { error: `caller is one of ${CALLERS.join(', ')}` }).optional(),
	collection: z.string().max(64, 'collection is at most 64 characters').optional(),
	item: z.string().max(255, 'item is at most 255 characters').optional(),
});
export type AuditQueryInput = z.infer<typeof AuditQuery>;

export const AuditEntry = z.object({
	id: z.number().int(),
	timestamp: z.string().nullable(),
	route: z.string(),
	caller: z.enum(CALLERS),
	identity: z.string().nullable(),
	identity_name: z.string().nullable(),
	user: z.string().nullable(),
	collection: z.string().nullable(),
	item: z.string().nullable(),
	outcome: z.enum(OUTCOMES),
	ip: z.string().nullable(),
	user_agent: z.string().nullable(),
});
export type AuditEntryAnswer = z.infer<typeof AuditEntry>;

export const AuditAnswer = z.object({
	entries: z.array(AuditEntry).describe('newest first, this page, with the filters'),
	total: z.number().int().describe('entries with the filters, all pages'),
	page: z.number().int(),
	limit: z.number().int(),
	summary: z.object({
		since: z.string().describe('start of the first day summarised (UTC)'),
		by_day: z.array(z.object({ day: z.string(), revealed: z.number().int(), other: z.number().int() })).describe('every day of the period, oldest first (empty on a database other than PostgreSQL, MySQL/MariaDB and SQLite)'),
		by_caller: z.array(z.object({ caller: z.enum(CALLERS), identity: z.string().nullable(), identity_name: z.string().nullable(), count: z.number().int() })),
		by_route: z.array(z.object({ route: z.string(), count: z.number().int() })),
	}),
});
export type AuditAnswerShape = z.infer<typeof AuditAnswer>;
