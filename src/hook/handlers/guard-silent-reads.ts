import type { Accountability, Query, SchemaOverview } from '@directus/types';
import type { QueryGuard } from './guard-counts.js';
import { inOwnUse } from './draft-scope.js';
import { wrapMethod } from './wrap-method.js';

/**
 * Two kinds of reads run no items.read filter, so neither the owner scope nor the mask:
 * - A read with `emitEvents: false`. Directus itself reads that way with a user's accountability:
 *   the manual flow trigger checks the keys a user sends with a silent `readMany`, so a user could
 *   run a flow on another owner's rows. A silent read that carries a non-admin caller's
 *   accountability gets the same guard and mask as any other read.
 * - A `?version=` read (`handleVersion`), which returns before the filters: the draft applied to
 *   the item (masked by the inner read), `$meta.delta` beside it, or with `versionRaw` the stored
 *   delta merged over the item. Its drafts are read unmasked (they are applied, not shown: see
 *   draft-scope) and the answer is masked on the way out.
 * Every read goes through `readByQuery` (`readOne` and `readMany` call it). Internal reads
 * (accountability null) are left alone. Directus 12 applies a draft in `readByQuery`; Directus 11 in
 * `readOne` and `readSingleton`, before (or without) calling it: those are wrapped for `?version=`
 * reads too, on both (on 12 the outer mask meets values already masked).
 */
interface ItemsServiceInstance {
	collection: string;
	accountability: Accountability | null;
	schema: SchemaOverview;
}
export type Mask = (collection: string, rows: unknown, schema: SchemaOverview, query: Query) => unknown;
const PUBLISHED = new Set(['published', 'main']);

export function guardSilentReads(ItemsService: { prototype: object } | undefined, guard: QueryGuard, mask: Mask): boolean {
	const versioned = (query: Query | undefined): query is Query & { version: string } => Boolean(query?.version && !PUBLISHED.has(query.version));
	const byQuery = wrapMethod(ItemsService, 'readByQuery', (original) =>
		async function (this: ItemsServiceInstance, query: Query, opts?: { emitEvents?: boolean }) {
			const caller = this.accountability;
			if (!caller) return original.call(this, query, opts);
			if (versioned(query)) return readDraftApplied(this, mask, () => original.call(this, query, opts), query);
			if (opts?.emitEvents !== false || caller.admin) return original.call(this, query, opts);
			const guarded = guard(query ?? {}, this.collection, { schema: this.schema, accountability: caller });
			return mask(this.collection, await original.call(this, guarded, opts), this.schema, guarded);
		},
	);
	// Directus 11's `?version=` reads of one item or a singleton.
	const one = wrapMethod(ItemsService, 'readOne', (original) =>
		function (this: ItemsServiceInstance, key: unknown, query?: Query, opts?: unknown) {
			return this.accountability && versioned(query) ? readDraftApplied(this, mask, () => original.call(this, key, query, opts), query) : original.call(this, key, query, opts);
		},
	);
	const singleton = wrapMethod(ItemsService, 'readSingleton', (original) =>
		function (this: ItemsServiceInstance, query: Query, opts?: unknown) {
			return this.accountability && versioned(query) ? readDraftApplied(this, mask, () => original.call(this, query, opts), query) : original.call(this, query, opts);
		},
	);
	return byQuery && one && singleton;
}

/** A read with a draft applied: the drafts are read unmasked within it (they are applied, not shown), the answer masked. */
async function readDraftApplied(service: ItemsServiceInstance, mask: Mask, read: () => unknown, query: Query) {
	return mask(service.collection, await inOwnUse({ versions: 'all' }, read), service.schema, { ...query });
}
