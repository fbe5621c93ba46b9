import type { Accountability, Query, SchemaOverview } from '@directus/types';
import { wrapMethod } from './wrap-method.js';

/**
 * `meta=filter_count` and `meta=total_count` (REST reads and websocket `items` messages) are
 * counted by Directus's MetaService straight from the request's query: no items.query event, so
 * neither the owner scope nor the protected-field check would see them, and a count across owners
 * with `_starts_with` is an oracle for other users' rows. Every count goes through one method,
 * `filterCount` (`totalCount` is `filterCount` with an empty query); wrapping it puts the same
 * query guard in front of every count, whatever the channel.
 */
interface ServiceInstance {
	accountability: Accountability | null;
	schema: SchemaOverview;
}
export type QueryGuard = (query: Query, collection: string, context: { schema: SchemaOverview | null; accountability: Accountability | null }) => Query;

export function guardMetaCounts(MetaService: { prototype: object } | undefined, guard: QueryGuard): boolean {
	return wrapMethod(MetaService, 'filterCount', (original) =>
		async function (this: ServiceInstance, collection: string, query: Query) {
			return original.call(this, collection, guard(query ?? {}, collection, { schema: this.schema, accountability: this.accountability }));
		},
	);
}
