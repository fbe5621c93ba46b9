import { directusVersion } from '../../scripts/directus.mjs';

/**
 * What the Directus under test offers, where 11 and 12 differ in Directus itself (not in the extension):
 * tests assert each major's own behaviour rather than skipping. Directus 11 keeps drafts of existing
 * items only, and applies a draft on single-item reads only (a list read with `?version=` shows the item).
 */
export const directusMajor = Number(directusVersion.split('.')[0]);
export const host = {
	draftsOfNewItems: directusMajor >= 12,
	draftsOnListReads: directusMajor >= 12,
};
