import type { Accountability } from '@directus/types';
import { ForbiddenError, InvalidPayloadError } from '@directus/errors';
import { IdentityScope } from '../../contracts/identities.js';
import { identityTokenHash, isIdentityToken } from '../../crypto/index.js';
import { AUDIT_COLLECTION, IDENTITIES_COLLECTION, KEY_READERS_COLLECTION, KEYS_COLLECTION } from '../../schema/collections.js';
import { wrapMethod } from './wrap-method.js';
import { inSetup } from '../../schema/setup-context.js';

/**
 * The extension's own records, as Directus's item channels reach them (REST, GraphQL, websockets,
 * flows, imports): the audit is append-only for everyone — the extension writes it with plain
 * INSERTs, never through Directus — and identities change only in what an admin may change.
 */
type Payload = Record<string, unknown>;

const ADMIN_ONLY = new Set([AUDIT_COLLECTION, IDENTITIES_COLLECTION, KEYS_COLLECTION, KEY_READERS_COLLECTION]);

/** A user who is not an admin; null accountability is Directus itself (setup, migrations), always allowed. */
const isUserNotAdmin = (accountability: Accountability | null) => Boolean(accountability && !accountability.admin);

/** Reads of either only by admins (or Directus itself), whatever a policy grants. */
export function adminOnlyRead<T>(query: T, collection: string, accountability: Accountability | null): T {
	if (ADMIN_ONLY.has(collection) && isUserNotAdmin(accountability)) throw new ForbiddenError();
	return query;
}

/**
 * Written by the extension alone, with plain SQL, never through Directus's items (not even by an admin):
 * the audit is append-only; the keys table holds the wrapped data keys (a deleted or altered row would
 * make every value under that key unreadable) and the key readers say which instance reads which key.
 */
const RECORDS: Record<string, string> = {
	[AUDIT_COLLECTION]: `${AUDIT_COLLECTION} is append-only: entries are written by the extension and never changed`,
	[KEYS_COLLECTION]: `${KEYS_COLLECTION} is changed only by \`npx directus credentials keys …\`: a wrapped data key deleted or altered here would leave its values unreadable`,
	[KEY_READERS_COLLECTION]: `${KEY_READERS_COLLECTION} is written by the running instances only`,
};

/** No create, update or delete of the extension's records through Directus's items. */
export function refuseRecordWrite<T>(payload: T, collection: string): T {
	const reason = RECORDS[collection];
	if (reason) throw new InvalidPayloadError({ reason });
	return payload;
}

/** Tables whose shape the extension's records depend on: never dropped or reshaped through Directus. */
const SHAPED_RECORDS = [AUDIT_COLLECTION, KEYS_COLLECTION, KEY_READERS_COLLECTION];
const recordShapeKept = (collection: string) =>
	new InvalidPayloadError({ reason: `${collection} is a record of directus-extension-credentials: its table, fields and relations are not changed through Directus` });

type ServiceClass = { prototype: object } | undefined;
/** Wraps the named methods so that a call whose first argument names the audit or the keys is refused first. */
function refuseOnRecord(Service: ServiceClass, names: string[], collectionOf: (first: unknown) => unknown[], allowInternal: boolean): boolean {
	return names.every((name) =>
		wrapMethod(Service, name, (original) =>
			async function (this: { accountability?: Accountability | null }, first: unknown, ...rest: unknown[]) {
				// `setup` itself, marked as such: a schema apply also runs without accountability, on an admin's request.
				const internal = allowInternal && !this.accountability && inSetup();
				const named = collectionOf(first).map(String).find((c) => SHAPED_RECORDS.includes(c));
				if (!internal && named) throw recordShapeKept(named);
				return original.call(this, first, ...rest);
			},
		),
	);
}

/**
 * The audit's table (and the keys') is not dropped or reshaped through Directus either (REST, GraphQL, a schema apply):
 * no delete of the collection, no change or delete of its fields, no relation from it (an ON DELETE
 * CASCADE from `identity` or `user` would delete entries with their identity or user). Refused before
 * the service starts: CollectionsService's `collections.delete` event comes after the DROP TABLE, which
 * MySQL and MariaDB commit at once. `setup` itself may still adjust the audit's fields (MySQL's column
 * types); users, admins included, may not, nor a schema apply (which runs without accountability).
 */
export function guardAuditSchema(services: { CollectionsService?: ServiceClass; FieldsService?: ServiceClass; RelationsService?: ServiceClass }): boolean {
	const collectionArgument = (first: unknown) => [first].flat();
	const relationCollection = (first: unknown) => [typeof first === 'object' && first !== null ? (first as { collection?: unknown }).collection : first];
	return [
		refuseOnRecord(services.CollectionsService, ['deleteOne', 'deleteMany'], collectionArgument, false),
		refuseOnRecord(services.FieldsService, ['deleteField', 'updateField', 'updateFields'], collectionArgument, true),
		refuseOnRecord(services.RelationsService, ['createOne', 'updateOne', 'deleteOne'], relationCollection, true),
	].every(Boolean);
}

const EDITABLE = IdentityScope.partial();

function checkedScope(payload: Payload, schema: typeof IdentityScope | typeof EDITABLE): Payload {
	const scope = Object.fromEntries(Object.entries(payload).filter(([field]) => field in IdentityScope.shape));
	const parsed = schema.safeParse(scope);
	if (!parsed.success) throw new InvalidPayloadError({ reason: parsed.error.issues[0]?.message ?? 'invalid scope' });
	// As parsed (empty lists stored as null, meaning "any", routes without repeats), as the CLI and the route store them.
	const data = parsed.data as Payload;
	const normalised = Object.fromEntries(Object.keys(IdentityScope.shape).filter((f) => f in payload || schema === IdentityScope).map((f) => [f, data[f] ?? null]));
	return { ...payload, ...normalised };
}

/**
 * Through /items (the Studio's form) an admin creates an identity with a token generated in the browser
 * (the `credentials-identity-token` interface shows it once): it arrives in `token_hash` and only its
 * SHA-256 digest is stored — the filter runs before the row, its revision and its activity are written.
 * Afterwards the scope, the expiry and the revocation are edited there; the token never changes (revoke
 * and create another), and a scope that is not one is refused rather than stored. Only admins (or
 * Directus itself) write identities, whatever a policy grants: one could otherwise give itself every
 * scope. The CLI and POST /credentials/identities make the token on the server instead.
 */
export function guardIdentityWrite(payload: Payload, collection: string, event: 'create' | 'update', accountability: Accountability | null): Payload {
	if (collection !== IDENTITIES_COLLECTION) return payload;
	if (isUserNotAdmin(accountability)) throw new ForbiddenError();
	if (!payload || typeof payload !== 'object') return payload;
	if (event === 'create') {
		if (!isIdentityToken(payload['token_hash'])) {
			throw new InvalidPayloadError({ reason: 'Generate the token in the form (it is shown once), or create the identity with `npx directus credentials identities create` or POST /credentials/identities' });
		}
		return { ...checkedScope(payload, IdentityScope), token_hash: identityTokenHash(payload['token_hash']) };
	}
	if ('token_hash' in payload || 'id' in payload) throw new InvalidPayloadError({ reason: 'The token of a machine identity is not changed here: revoke it and create a new one' });
	return checkedScope(payload, EDITABLE);
}

/** Deletes of identities too: admins only. */
export function guardIdentityDelete<T>(keys: T, collection: string, accountability: Accountability | null): T {
	if (collection === IDENTITIES_COLLECTION && isUserNotAdmin(accountability)) throw new ForbiddenError();
	return keys;
}
