import type { Accountability, Query, SchemaOverview } from '@directus/types';
import type { QueryGuard } from './guard-counts.js';
import { wrapMethod } from './wrap-method.js';

/**
 * A read with `emitEvents: false` runs no items.query or items.read filter — so neither the owner
 * scope nor the mask. Directus itself reads that way with a user's accountability: the manual
 * flow trigger checks the keys a user sends with a silent `readMany`, so a user could run a flow
 * on another owner's rows. Every read goes through `readByQuery` (`readOne` and `readMany` call
 * it); a silent read that carries a non-admin caller's accountability gets the same guard and
 * mask as any other read. Internal reads (accountability null) and admins are left alone.
 */
interface ItemsServiceInstance {
	collection: string;
	accountability: Accountability | null;
	schema: SchemaOverview;
}
type Mask = (collection: string, rows: unknown) => unknown;

export function guardSilentReads(ItemsService: { prototype: object } | undefined, guard: QueryGuard, mask: Mask): boolean {
	return wrapMethod(ItemsService, 'readByQuery', (original) =>
		async function (this: ItemsServiceInstance, query: Query, opts?: { emitEvents?: boolean }) {
			const caller = this.accountability;
			if (opts?.emitEvents !== false || !caller || caller.admin) return original.call(this, query, opts);
			const guarded = guard(query ?? {}, this.collection, { schema: this.schema, accountability: caller });
			return mask(this.collection, await original.call(this, guarded, opts));
		},
	);
}
