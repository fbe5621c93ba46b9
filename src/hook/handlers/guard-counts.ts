import type { Accountability, Query, SchemaOverview } from '@directus/types';

/**
 * `meta=filter_count` and `meta=total_count` (REST reads and websocket `items` messages) are
 * counted by Directus's MetaService straight from the request's query: no items.query event, so
 * neither the owner scope nor the protected-field check would see them, and a count across owners
 * with `_starts_with` is an oracle for other users' rows. Every count goes through one method,
 * `filterCount` (`totalCount` is `filterCount` with an empty query); wrapping it puts the same
 * query guard in front of every count, whatever the channel.
 */
interface MetaServiceInstance {
	accountability: Accountability | null;
	schema: SchemaOverview;
}
type FilterCount = (this: MetaServiceInstance, collection: string, query: Query) => Promise<number>;
export type QueryGuard = (query: Query, collection: string, context: { schema: SchemaOverview | null; accountability: Accountability | null }) => Query;

/** Directus's own method, kept on the prototype so that a reloaded extension wraps it, not its own wrapper. */
const ORIGINAL = Symbol.for('directus-extension-credentials:MetaService.filterCount');

export function guardMetaCounts(MetaService: { prototype: object } | undefined, guard: QueryGuard): boolean {
	const proto = MetaService?.prototype as (Record<string | symbol, unknown> & { filterCount?: FilterCount }) | undefined;
	const original = (proto?.[ORIGINAL] ?? proto?.filterCount) as FilterCount | undefined;
	if (!proto || typeof original !== 'function') return false;
	proto[ORIGINAL] = original;
	proto.filterCount = async function (this: MetaServiceInstance, collection: string, query: Query) {
		return original.call(this, collection, guard(query ?? {}, collection, { schema: this.schema, accountability: this.accountability }));
	};
	return true;
}
