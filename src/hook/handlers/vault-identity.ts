import type { Accountability } from '@directus/types';
import type { Knex } from 'knex';
import { InvalidPayloadError } from '@directus/errors';

/**
 * api_credentials rows are unique per (owner, service, name). Directus can only declare single
 * columns unique without custom DDL, so the hook fills `identity` = owner:service:name on create
 * and the database's unique index does the rest — also under 50 concurrent creates. Service and
 * name are fixed once created (replace the key, or delete and create again), so the identity
 * never goes stale.
 */
export const VAULT_COLLECTION = 'api_credentials';
type Payload = Record<string, unknown>;

export const vaultIdentity = (owner: unknown, service: unknown, name: unknown) => `${owner}:${service}:${name}`;

export function setVaultIdentity(payload: Payload, collection: string, accountability: Accountability | null): Payload {
	if (collection !== VAULT_COLLECTION || !payload || typeof payload !== 'object') return payload;
	// The owner is the creating user (user-created special); internal creates name it explicitly.
	const owner = accountability?.user ?? payload['owner'] ?? null;
	return { ...payload, identity: vaultIdentity(owner, payload['service'], payload['name']) };
}

export async function freezeVaultIdentity(payload: Payload, collection: string, keys: (string | number)[], database: Knex): Promise<Payload> {
	if (collection !== VAULT_COLLECTION || !payload || typeof payload !== 'object') return payload;
	const changing = ['service', 'name', 'owner', 'identity'].filter((f) => f in payload);
	if (changing.length === 0) return payload;
	const rows = await database(VAULT_COLLECTION).select('id', 'service', 'name', 'owner', 'identity').whereIn('id', keys.map(String));
	// Sending a value back unchanged is fine (clients echo whole rows); changing it is not.
	for (const row of rows) {
		for (const field of changing) {
			if (payload[field] !== row[field]) throw new InvalidPayloadError({ reason: `${field} of an API credential cannot be changed; delete it and create a new one` });
		}
	}
	return payload;
}
