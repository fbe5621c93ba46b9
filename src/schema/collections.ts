import { SERVER_ROUTES } from '../contracts/identities.js';

/**
 * The extension's collections as data, in the shape Directus's CollectionsService and
 * FieldsService take. The installer adds what is missing and alters nothing that exists, but for the
 * MySQL/MariaDB column types of storage.ts.
 */
type Json = Record<string, unknown>;
export interface FieldDef {
	field: string;
	type: string;
	meta?: Json;
	schema?: Json | null;
}
export interface RelationDef {
	field: string;
	related_collection: string;
	on_delete: 'CASCADE' | 'SET NULL';
}
export interface CollectionDef {
	collection: string;
	meta: Json;
	fields: FieldDef[];
	relations: RelationDef[];
}
/** A collection whose rows belong to users; the owner guard limits non-admins to their own. */
export interface OwnedCollectionDef extends CollectionDef {
	/** The field that holds the owning user. */
	ownerField: string;
}

const SERVER_ROUTE_CHOICES = SERVER_ROUTES.map((route) => ({ text: route, value: route }));
const SECRET_NOTE = 'Encrypted by directus-extension-credentials. Reads show a mask; plaintext leaves only through audited reveal routes.';

const id: FieldDef = {
	field: 'id',
	type: 'uuid',
	meta: { hidden: true, readonly: true, interface: 'input', special: ['uuid'] },
	schema: { is_primary_key: true, length: 36, has_auto_increment: false },
};
const owner = (field: string): FieldDef => ({
	field,
	type: 'uuid',
	meta: { special: ['user-created'], interface: 'select-dropdown-m2o', readonly: true, hidden: true, display: 'user' },
	schema: {},
});
const stamp = (field: string, special?: 'date-created' | 'date-updated'): FieldDef => ({
	field,
	type: 'timestamp',
	meta: special
		? { special: [special], interface: 'datetime', readonly: true, hidden: true, display: 'datetime', display_options: { relative: true } }
		: { interface: 'datetime' },
	schema: {},
});
const str = (field: string, required = false, extra: Json = {}): FieldDef => ({
	field,
	type: 'string',
	meta: { interface: 'input', required, ...extra },
	schema: { is_nullable: !required },
});
/** The Data Studio interface and display the bundle ships for protected fields (src/app). */
export const SECRET_INTERFACE = 'credentials-secret';
/** Interfaces a protected field had before the bundle shipped its own; setup upgrades only these. */
export const PREVIOUS_SECRET_INTERFACES = ['input-multiline', 'input-code'];

/** `kind` tells the interface what a new value looks like: a JSON object/array, or a single string. */
const secret = (field: string, type: 'text' | 'json', kind: 'json' | 'text'): FieldDef => ({
	field,
	type,
	meta: {
		interface: SECRET_INTERFACE,
		options: { kind },
		display: SECRET_INTERFACE,
		note: SECRET_NOTE,
		special: type === 'json' ? ['cast-json'] : null,
		// Directus's search would match the stored text: an oracle (see hook/handlers/query-guard.ts).
		searchable: false,
	},
	schema: {},
});
const profileRef: FieldDef = {
	field: 'creator_profile_id',
	type: 'uuid',
	meta: { interface: 'select-dropdown-m2o', required: true, special: ['m2o'] },
	schema: { is_nullable: false },
};
const ownerRelation = (field: string): RelationDef => ({ field, related_collection: 'directus_users', on_delete: 'CASCADE' });
const choices = (...values: string[]) => ({ interface: 'select-dropdown', options: { choices: values.map((v) => ({ text: v, value: v })) } });

export const COLLECTIONS: OwnedCollectionDef[] = [
	{
		collection: 'platform_connections',
		ownerField: 'owner',
		meta: { icon: 'link', note: 'Creator platform connections with encrypted credentials', display_template: '{{platform}} · {{platform_username}}' },
		fields: [
			id,
			owner('owner'),
			str('platform', true),
			str('platform_username'),
			secret('encrypted_credentials', 'text', 'json'),
			str('credentials_version'),
			stamp('credentials_updated_at'),
			stamp('date_created', 'date-created'),
			stamp('date_updated', 'date-updated'),
		],
		relations: [ownerRelation('owner')],
	},
	{
		collection: 'download_credentials',
		ownerField: 'owner',
		meta: { icon: 'download', note: 'yt-dlp credentials (password or Netscape cookies), encrypted', display_template: '{{platform}} · {{display_name}}' },
		fields: [
			id,
			owner('owner'),
			profileRef,
			str('platform', true),
			str('auth_type', true, choices('password', 'cookies')),
			str('username'),
			str('display_name'),
			secret('encrypted_credentials', 'text', 'json'),
			stamp('date_created', 'date-created'),
			stamp('date_updated', 'date-updated'),
		],
		relations: [ownerRelation('owner'), { field: 'creator_profile_id', related_collection: 'platform_connections', on_delete: 'CASCADE' }],
	},
	{
		collection: 'platform_sessions',
		ownerField: 'owner',
		meta: { icon: 'cookie', note: 'Captured browser sessions (cookies), encrypted', display_template: '{{platform}} · {{captured_at}}' },
		fields: [
			id,
			owner('owner'),
			profileRef,
			str('platform', true),
			secret('encrypted_cookies', 'text', 'json'),
			{ field: 'cookie_count', type: 'integer', meta: { interface: 'input', readonly: true }, schema: {} },
			{ field: 'user_agent', type: 'text', meta: { interface: 'input' }, schema: {} },
			stamp('captured_at', 'date-created'),
			stamp('expires_at'),
			stamp('revoked_at'),
		],
		relations: [ownerRelation('owner'), { field: 'creator_profile_id', related_collection: 'platform_connections', on_delete: 'CASCADE' }],
	},
	{
		collection: 'creator_profiles',
		ownerField: 'user_id',
		meta: { icon: 'person', note: 'Creator platform accounts and scraping state', display_template: '{{platform}} · {{username}}' },
		fields: [
			id,
			owner('user_id'),
			str('platform', true),
			str('username'),
			secret('credentials', 'json', 'json'),
			{
				field: 'scrape_status',
				type: 'string',
				meta: choices('idle', 'scraping', 'success', 'error'),
				schema: { default_value: 'idle', is_nullable: false },
			},
			stamp('last_scraped_at'),
			{ field: 'is_active', type: 'boolean', meta: { interface: 'boolean', special: ['cast-boolean'] }, schema: { default_value: true } },
			stamp('created_at', 'date-created'),
			stamp('updated_at', 'date-updated'),
		],
		relations: [ownerRelation('user_id')],
	},
	{
		collection: 'api_credentials',
		ownerField: 'owner',
		meta: { icon: 'vpn_key', note: 'Personal API keys (vault); the key is write-only', display_template: '{{service}} · {{name}}' },
		fields: [
			id,
			owner('owner'),
			str('service', true),
			str('name', true),
			secret('encrypted_key', 'text', 'text'),
			// owner:service:name, unique: the database itself refuses a second entry with the same name.
			{ field: 'identity', type: 'string', meta: { hidden: true, readonly: true, interface: 'input' }, schema: { is_unique: true, is_nullable: true } },
			stamp('created_at', 'date-created'),
			{ field: 'last_used_at', type: 'timestamp', meta: { interface: 'datetime', readonly: true }, schema: {} },
		],
		relations: [ownerRelation('owner')],
	},
];

/** The vault's unique owner:service:name column: compared with its case on every database (storage.ts). */
export const VAULT_IDENTITY = { collection: 'api_credentials', field: 'identity' } as const;

/**
 * One row per key id the extension has written with: a canary value sealed under that key. At
 * start the configured keys must open their canaries, and a canary whose key is no longer
 * configured tells which key id is missing. Admin-only (no policy grants it).
 */
export const KEYS_COLLECTION = 'credentials_keys';
/** Each running instance's heartbeat with the wrapped data keys it has unwrapped: a key is promoted once every live instance reads it. */
export const KEY_READERS_COLLECTION = 'credentials_key_readers';
/**
 * One row per protected field: what the last `verify` found (counts, never a value or a row key).
 * `status` counts by key id in SQL without decrypting; whether values open comes from here, with
 * its time. Admin-only, like the canaries.
 */
export const VERIFICATIONS_COLLECTION = 'credentials_verifications';
const count = (field: string, note: string): FieldDef => ({ field, type: 'integer', meta: { readonly: true, interface: 'input', note }, schema: { is_nullable: false, default_value: 0 } });
/**
 * Machine identities (see src/services/identities.ts): admins read and edit their scope, expiry and
 * revocation in the Studio; the token itself only as its SHA-256 digest. Edits are tracked in activity.
 */
export const IDENTITIES_COLLECTION = 'credentials_identities';
/** The audit of record: one row per reveal and per refused attempt of a known caller. Append-only; admins read it. */
export const AUDIT_COLLECTION = 'credentials_audit';
const scopeList = (field: string, note: string): FieldDef => ({ field, type: 'json', meta: { interface: 'tags', special: ['cast-json'], note }, schema: {} });
const auditText = (field: string, length = 255, note?: string): FieldDef => ({ field, type: 'string', meta: { readonly: true, interface: 'input', ...(note && { note }) }, schema: { length } });
export const INTERNAL_COLLECTIONS: CollectionDef[] = [
	{
		collection: KEYS_COLLECTION,
		meta: { icon: 'key', hidden: true, note: 'Key canaries of directus-extension-credentials (no secrets)', accountability: null },
		fields: [
			{ field: 'key_id', type: 'string', meta: { readonly: true, interface: 'input' }, schema: { is_primary_key: true, length: 16, has_auto_increment: false } },
			{ field: 'canary', type: 'text', meta: { readonly: true, interface: 'input-multiline' }, schema: {} },
			stamp('created_at', 'date-created'),
			// Wrapped data keys (the key hierarchy, src/keys/): the key under its KEK, never in the clear. Null for keys from the environment.
			{ field: 'wrapped', type: 'text', meta: { readonly: true, interface: 'input-multiline', note: 'the data key wrapped by its key-encryption key' }, schema: {} },
			{ field: 'kek', type: 'string', meta: { readonly: true, interface: 'input', note: 'label of the key-encryption key that wraps it' }, schema: { length: 255 } },
			{ field: 'state', type: 'string', meta: { readonly: true, interface: 'input', note: 'pending (readable, not yet written with), current, or retired' }, schema: { length: 16 } },
		],
		relations: [],
	},
	{
		collection: KEY_READERS_COLLECTION,
		meta: { icon: 'dns', hidden: true, note: 'Which data keys each running instance has unwrapped (directus-extension-credentials; no secrets)', accountability: null },
		fields: [
			{ field: 'instance', type: 'string', meta: { readonly: true, interface: 'input' }, schema: { is_primary_key: true, length: 64, has_auto_increment: false } },
			{ field: 'key_ids', type: 'text', meta: { readonly: true, interface: 'input', note: 'comma-separated key ids' }, schema: {} },
			// ISO 8601 text written by the instance (as verified_at): compared in JavaScript, the same on every database.
			{ field: 'seen_at', type: 'string', meta: { readonly: true, interface: 'input', note: 'ISO 8601, UTC' }, schema: { is_nullable: false, length: 32 } },
		],
		relations: [],
	},
	{
		collection: VERIFICATIONS_COLLECTION,
		meta: { icon: 'fact_check', hidden: true, note: 'The last `credentials verify` per protected field (counts only, no secrets)', accountability: null },
		fields: [
			{ field: 'field', type: 'string', meta: { readonly: true, interface: 'input', note: 'collection.field' }, schema: { is_primary_key: true, length: 255, has_auto_increment: false } },
			// ISO 8601 text written by the verifying process: the same on every database, with no time-zone conversion on the way.
			{ field: 'verified_at', type: 'string', meta: { readonly: true, interface: 'input', note: 'ISO 8601, UTC' }, schema: { is_nullable: false, length: 32 } },
			count('checked', 'values checked (plaintext ones fail)'),
			count('undecryptable', 'values no configured key opens'),
			count('earlier_binding', "values bound to an earlier spelling of their row's key"),
		],
		relations: [],
	},
	{
		collection: IDENTITIES_COLLECTION,
		meta: {
			icon: 'badge',
			note: 'Machine identities of directus-extension-credentials: scoped, revocable tokens for the server routes (the token is stored as a digest only)',
			display_template: '{{name}}',
			accountability: 'all',
		},
		fields: [
			id,
			{ field: 'name', type: 'string', meta: { interface: 'input', required: true }, schema: { is_nullable: false, is_unique: true, length: 128 } },
			{
				field: 'token_hash',
				type: 'string',
				meta: {
					interface: 'credentials-identity-token',
					required: true,
					note: 'The token is shown once, when it is generated; only its SHA-256 digest is stored',
					searchable: false,
					translations: [{ language: 'en-US', translation: 'Token' }],
				},
				schema: { is_nullable: false, is_unique: true, length: 64 },
			},
			{
				field: 'routes',
				type: 'json',
				meta: {
					interface: 'select-multiple-checkbox',
					special: ['cast-json'],
					required: true,
					options: { choices: SERVER_ROUTE_CHOICES },
					note: 'server routes this identity may call',
				},
				schema: {},
			},
			scopeList('collections', 'only rows of these collections; empty: any'),
			scopeList('platforms', 'only rows whose platform is one of these; empty: any'),
			scopeList('services', 'only vault rows of these services; empty: any'),
			{ field: 'rate_limit', type: 'integer', meta: { interface: 'input', note: 'reveals per minute, across instances; empty: no limit' }, schema: {} },
			stamp('expires_at'),
			stamp('revoked_at'),
			stamp('created_at', 'date-created'),
			{ field: 'last_used_at', type: 'timestamp', meta: { interface: 'datetime', readonly: true, note: 'updated at most once a minute per instance' }, schema: {} },
		],
		relations: [],
	},
	{
		collection: AUDIT_COLLECTION,
		meta: { icon: 'policy', note: 'Reveals and refused attempts (directus-extension-credentials): append-only, never a value', accountability: null, sort_field: null },
		fields: [
			{ field: 'id', type: 'integer', meta: { readonly: true, interface: 'input' }, schema: { is_primary_key: true, has_auto_increment: true } },
			{ field: 'timestamp', type: 'timestamp', meta: { readonly: true, interface: 'datetime', display: 'datetime' }, schema: { is_nullable: false } },
			auditText('route', 64),
			auditText('caller', 16, 'identity, shared-secret or user'),
			{ field: 'identity', type: 'uuid', meta: { readonly: true, interface: 'input' }, schema: {} },
			auditText('identity_name', 128),
			{ field: 'user', type: 'uuid', meta: { readonly: true, interface: 'input' }, schema: {} },
			auditText('collection', 64),
			auditText('item', 255),
			auditText('outcome', 16, 'revealed, not-found, refused, undecryptable or rate-limited'),
			auditText('ip', 64),
			auditText('user_agent', 1000),
		],
		relations: [],
	},
];
