import { directusVersion } from '../../scripts/directus-host.mjs';

export { directusVersion };

/**
 * What the Directus under test offers, where 11 and 12 differ in Directus itself (not in the extension):
 * tests assert each major's own behaviour rather than skipping. Directus 11 keeps drafts of existing
 * items only, and applies a draft on single-item reads only (a list read with `?version=` shows the item).
 * Its Studio sometimes leaves a field on a status read before a save committed, until a reload.
 */
export const directusMajor = Number(directusVersion.split('.')[0]);
export const host = {
	draftsOfNewItems: directusMajor >= 12,
	draftsOnListReads: directusMajor >= 12,
	/** The secret field's status follows a Studio "Save and Stay" without a reload (11: not always). */
	liveStatusAfterSave: directusMajor >= 12,
};
