import { COLLECTIONS } from './collections.js';

/**
 * Which collections have owners, by which field, and which of their fields point at another
 * owned collection: the one answer every guard (queries, writes, counts, flows, collaboration)
 * consults.
 */
export interface Owned {
	ownerField: string;
	/** Fields that reference another owned collection (e.g. creator_profile_id → platform_connections). */
	parents: { field: string; collection: string }[];
}

export const OWNED: ReadonlyMap<string, Owned> = new Map(
	COLLECTIONS.map((c) => [
		c.collection,
		{
			ownerField: c.ownerField,
			parents: c.relations
				.filter((r) => COLLECTIONS.some((o) => o.collection === r.related_collection))
				.map((r) => ({ field: r.field, collection: r.related_collection })),
		},
	]),
);

export const isOwned = (collection: string): boolean => OWNED.has(collection);
