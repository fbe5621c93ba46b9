import type { SchemaOverview } from '@directus/types';
import { SECRET_INTERFACE } from './collections.js';
import { cannotProtect, specialList, withMark } from './field-registry.js';
import type { InstallDeps } from './install.js';
import type { FieldRef } from './protected-fields.js';
import { SYSTEM_COLLECTION } from './protectable.js';

/**
 * Directus's own field encryption: the `encrypt` special (AES-GCM under scrypt(SECRET), one
 * derivation per value, no key id, no binding to the row). adopt-encrypt-special hands such a field
 * over to the extension: the special comes off and the mark goes on in one field update, so no write
 * is ever encrypted by both (the hook seals, then Directus would encrypt the envelope again).
 */
export const DIRECTUS_ENCRYPT_SPECIAL = 'encrypt';


export interface EncryptSpecialField extends FieldRef {
	type: string;
	/** Why it cannot be handed over (its values stay as they are), or null. */
	refused: string | null;
}

/** A 255-character string cannot hold an envelope; the hand-over makes it text, as Directus's own column change does. */
const protectedType = (type: string) => (type === 'string' ? 'text' : type);

export function hasEncryptSpecial(special: unknown): boolean {
	return specialList(special).includes(DIRECTUS_ENCRYPT_SPECIAL);
}

/** The fields of user collections that use the special, and whether each can be protected instead. */
export function encryptSpecialFields(schema: SchemaOverview, collection?: string): EncryptSpecialField[] {
	const found: EncryptSpecialField[] = [];
	for (const [name, info] of Object.entries(schema.collections)) {
		// Directus's system collections (its AI keys, deployments) keep their special: Directus reads them itself.
		if (SYSTEM_COLLECTION.test(name) || (collection && name !== collection)) continue;
		for (const [field, overview] of Object.entries(info.fields)) {
			if (!hasEncryptSpecial(overview.special)) continue;
			found.push({ collection: name, field, type: overview.type, refused: cannotProtect(schema, name, protectedType(overview.type)) });
		}
	}
	return found;
}

/**
 * One FieldsService update: the special off, the mark and the "Encrypted secret" interface on (and a
 * string column widened to text). Every instance takes the protected set from the schema this changes;
 * the field's hooks (field-registry.ts) check it as they check any field an admin protects.
 */
export async function handOver(deps: InstallDeps, field: EncryptSpecialField): Promise<void> {
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	const current = schema.collections[field.collection]?.fields[field.field];
	const special = withMark(specialList(current?.special).filter((s) => s !== DIRECTUS_ENCRYPT_SPECIAL));
	const widen = field.type !== protectedType(field.type) ? { type: protectedType(field.type), schema: {} } : {};
	const fields = new deps.services['FieldsService']({ knex: deps.database, schema, accountability: null });
	await fields.updateField(field.collection, { field: field.field, ...widen, meta: { special, interface: SECRET_INTERFACE } });
}
