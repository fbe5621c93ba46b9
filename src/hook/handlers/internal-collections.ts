import type { Accountability } from '@directus/types';
import { ForbiddenError, InvalidPayloadError } from '@directus/errors';
import { IdentityScope } from '../../contracts/identities.js';
import { AUDIT_COLLECTION, IDENTITIES_COLLECTION } from '../../schema/collections.js';
import { wrapMethod } from './wrap-method.js';

/**
 * The extension's own records, as Directus's item channels reach them (REST, GraphQL, websockets,
 * flows, imports): the audit is append-only for everyone — the extension writes it with plain
 * INSERTs, never through Directus — and identities change only in what an admin may change.
 */
type Payload = Record<string, unknown>;

const ADMIN_ONLY = new Set([AUDIT_COLLECTION, IDENTITIES_COLLECTION]);

/** Reads of either only by admins (or Directus itself), whatever a policy grants. */
export function adminOnlyRead<T>(query: T, collection: string, accountability: Accountability | null): T {
	if (ADMIN_ONLY.has(collection) && accountability && !accountability.admin) throw new ForbiddenError();
	return query;
}

/** No create, update or delete of audit entries through Directus, not even by an admin. */
export function refuseAuditWrite<T>(payload: T, collection: string): T {
	if (collection === AUDIT_COLLECTION) throw new InvalidPayloadError({ reason: `${AUDIT_COLLECTION} is append-only: entries are written by the extension and never changed` });
	return payload;
}

/**
 * The audit collection is not dropped through Directus either (REST, GraphQL, a schema apply). Before
 * CollectionsService starts: its `collections.delete` event comes after the DROP TABLE, which MySQL and
 * MariaDB commit at once, whatever the transaction.
 */
export function guardAuditDrop(CollectionsService: { prototype: object } | undefined): boolean {
	const refuse = (keys: unknown) => {
		if ([keys].flat().map(String).includes(AUDIT_COLLECTION)) {
			throw new InvalidPayloadError({ reason: `${AUDIT_COLLECTION} is the audit of record and is not deleted through Directus` });
		}
	};
	return ['deleteOne', 'deleteMany'].every((name) =>
		wrapMethod(CollectionsService, name, (original) =>
			async function (this: unknown, keys: unknown, ...rest: unknown[]) {
				refuse(keys);
				return original.call(this, keys, ...rest);
			},
		),
	);
}

const EDITABLE = IdentityScope.partial();

/**
 * Identities are created with their token by `credentials identities create` or POST
 * /credentials/identities (the token is shown there, once). Through /items an admin edits the scope,
 * the expiry and the revocation; the token's digest is never written there, and a scope that is not
 * one is refused rather than stored.
 */
export function guardIdentityWrite(payload: Payload, collection: string, event: 'create' | 'update'): Payload {
	if (collection !== IDENTITIES_COLLECTION || !payload || typeof payload !== 'object') return payload;
	if (event === 'create') {
		throw new InvalidPayloadError({ reason: 'Create machine identities with `npx directus credentials identities create` or POST /credentials/identities: their token is shown there, once' });
	}
	if ('token_hash' in payload || 'id' in payload) throw new InvalidPayloadError({ reason: 'The token of a machine identity is not changed here: revoke it and create a new one' });
	const scope = Object.fromEntries(Object.entries(payload).filter(([field]) => field in EDITABLE.shape));
	const parsed = EDITABLE.safeParse(scope);
	if (!parsed.success) throw new InvalidPayloadError({ reason: parsed.error.issues[0]?.message ?? 'invalid scope' });
	// Empty lists mean "any": stored as null, as the CLI and the route store them.
	const lists = Object.fromEntries(['collections', 'platforms', 'services'].filter((f) => f in payload).map((f) => [f, (parsed.data as Payload)[f] ?? null]));
	return { ...payload, ...lists };
}
