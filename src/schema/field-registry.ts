import type { SchemaOverview } from '@directus/types';
import type { FieldRef } from './protected-fields.js';
import { SYSTEM_COLLECTION, whyNotProtectable } from './protectable.js';

/**
 * Fields an admin protects from the data model carry this mark in `directus_fields.special`. The mark is
 * part of the schema Directus gives every hook and every instance (and clears everywhere when a field
 * changes), so protecting a field needs no restart and no setting of ours: the data model is the
 * registry. Built-in fields and CREDENTIALS_ENCRYPTED_FIELDS are protected without it.
 */
export const PROTECTED_MARK = 'credentials-protected';


export function markedFields(schema: SchemaOverview): FieldRef[] {
	const marked: FieldRef[] = [];
	for (const [collection, info] of Object.entries(schema.collections)) {
		if (SYSTEM_COLLECTION.test(collection)) continue;
		for (const [field, overview] of Object.entries(info.fields)) if (overview.special?.includes(PROTECTED_MARK)) marked.push({ collection, field });
	}
	return marked;
}

/** `special` as Directus stores it: an array, a comma list, or nothing. */
export function specialList(special: unknown): string[] {
	if (Array.isArray(special)) return special.map(String);
	if (typeof special === 'string' && special !== '') return special.split(',');
	return [];
}

/** Appended after the others: Directus reads some specials by position (a geometry's type comes first). */
export const withMark = (special: unknown): string[] => [...specialList(special).filter((s) => s !== PROTECTED_MARK), PROTECTED_MARK];
export const withoutMark = (special: unknown): string[] | null => {
	const rest = specialList(special).filter((s) => s !== PROTECTED_MARK);
	return rest.length > 0 ? rest : null;
};

/** Why a field cannot be protected (see protectable.ts), or null when it can, from the schema Directus hands a hook. */
export function cannotProtect(schema: SchemaOverview, collection: string, type: string | undefined): string | null {
	const info = schema.collections[collection];
	const pk = info?.fields[info.primary];
	const primaryKey = info ? { name: info.primary, type: pk?.type ?? 'unknown', generatedBy: pk && pk.defaultValue !== null ? String(pk.defaultValue) : null } : null;
	return whyNotProtectable({ collection, primaryKey, fieldType: type });
}
