import { classifyStored, DecryptError, openStored, type Keyring, type StoredFormat } from '../crypto/index.js';
import type { FieldStatusInput } from '../contracts/studio.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { isoOrNull } from '../lib/dates.js';
import type { UserCaller } from './caller.js';
import { itemsService, ring, type ServiceDeps } from './deps.js';
import { readRaw } from './rows.js';

const FORMAT: Record<StoredFormat, string | null> = {
	empty: null,
	v2: 'cred:v2',
	'legacy-string': 'legacy',
	'legacy-object': 'legacy',
	'directus-encrypt': 'directus-encrypt',
	plaintext: 'plaintext',
};

/** Whether the configured keys open the value; the plaintext is dropped on the spot. */
function decryptable(keys: Keyring, stored: unknown, ctx: { collection: string; field: string; pk: string }): boolean {
	try {
		openStored(keys, stored, ctx);
		return true;
	} catch (error) {
		if (error instanceof DecryptError) return false;
		throw error;
	}
}

/** The row's "last changed" fields: Directus's date-updated special (null until the first update), then date-created. */
function changedAtFields(deps: ServiceDeps, collection: string): string[] {
	const fields = Object.values(deps.schema.collections[collection]?.fields ?? {});
	return ['date-updated', 'date-created'].flatMap((special) => fields.find((f) => f.special.includes(special))?.field ?? []);
}

const isForbidden = (error: unknown) => (error as { code?: string } | null)?.code === 'FORBIDDEN';

/**
 * Metadata about one protected value — set or not, format, key id, whether it decrypts, when the
 * row last changed — for a caller who may read that field of that row. Never the value.
 */
export async function fieldStatus(deps: ServiceDeps, { accountability }: UserCaller, input: FieldStatusInput) {
	const { collection, field, id } = input;
	const pkField = deps.schema.collections[collection]?.primary;
	if (!deps.fields.has(collection, field) || !pkField || !deps.schema.collections[collection]?.fields[field]) {
		throw new InvalidInputError({ reason: `${collection}.${field} is not a protected field` });
	}
	const changedAt = changedAtFields(deps, collection);
	const { key, row } = await readRaw(deps, collection, id, [field, ...changedAt]);
	// The caller's own read decides: Directus's policies (field permissions included) and the owner guard.
	// A row the caller may not read answers like a missing one: its existence is someone else's business.
	await itemsService(deps, collection, accountability)
		.readOne(key, { fields: [pkField, field] })
		.catch((error: unknown) => {
			throw isForbidden(error) ? new NotFoundError({ reason: 'Not found' }) : error;
		});

	const stored = row[field];
	const classified = classifyStored(stored);
	const set = classified.format !== 'empty';
	return {
		success: true as const,
		set,
		format: FORMAT[classified.format],
		key_id: classified.keyId ?? null,
		key_configured: classified.keyId ? ring(deps).byId(classified.keyId) !== undefined : null,
		// Not for a value of Directus's special: one scrypt derivation per call, for any signed-in user, is not metadata's price.
		decryptable: set && classified.format !== 'plaintext' && classified.format !== 'directus-encrypt' ? decryptable(ring(deps), stored, { collection, field, pk: key }) : null,
		updated_at: changedAt.map((f) => isoOrNull(row[f])).find((date) => date !== null) ?? null,
	};
}
