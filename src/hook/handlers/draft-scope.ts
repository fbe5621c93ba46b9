import { AsyncLocalStorage } from 'node:async_hooks';
import type { Accountability, SchemaOverview } from '@directus/types';
import { wrapMethod } from './wrap-method.js';

/**
 * Drafts and revisions are shown masked to every caller — but Directus's own uses of them read
 * the stored payload with the caller's accountability and then write it back: `promote` and
 * `save` read the version, `/utils/revert` the revision, a `?version=` read applies each draft's
 * delta in a rolled-back transaction. Masked, they would write the mask (which the write path
 * drops, silently keeping the old secret). Within those calls — and only there — the versions or
 * the one revision they use are read unmasked; nothing of it is returned to the caller unmasked:
 * `save` and `?version=` answers are masked on the way out, `promote` and `revert` return keys.
 */
interface Scope {
	versions: 'all' | ReadonlySet<string>;
	revisions: ReadonlySet<string>;
}
const scope = new AsyncLocalStorage<Scope>();

/** Whether these rows of directus_versions or directus_revisions are being read for Directus's own use. */
export function readForOwnUse(collection: string, rows: unknown): boolean {
	const current = scope.getStore();
	if (!current) return false;
	const ids = collection === 'directus_versions' ? current.versions : collection === 'directus_revisions' ? current.revisions : null;
	if (!ids) return false;
	if (ids === 'all') return true;
	const list = Array.isArray(rows) ? rows : [rows];
	return list.length > 0 && list.every((row) => row && typeof row === 'object' && ids.has(String((row as { id?: unknown }).id)));
}

export function inOwnUse<T>(use: Partial<Scope>, run: () => T): T {
	return scope.run({ versions: use.versions ?? new Set(), revisions: use.revisions ?? new Set() }, run);
}

interface ServiceInstance {
	accountability: Accountability | null;
	schema: SchemaOverview;
	knex: (table: string) => { select: (...c: string[]) => { where: (c: string, v: unknown) => { first: () => Promise<Record<string, unknown> | undefined> } } };
}
type Service = { prototype: object } | undefined;
/** Masks one draft delta of a collection (the answer of `save`). */
export type MaskDelta = (collection: string, delta: unknown, schema: SchemaOverview) => unknown;

/** promote and save use their version unmasked; save's answer (the merged delta) is masked. False when Directus's methods moved. */
export function scopeVersionUses(VersionsService: Service, maskDelta: MaskDelta): boolean {
	const promote = wrapMethod(VersionsService, 'promote', (original) =>
		function (this: ServiceInstance, version: unknown, ...rest: unknown[]) {
			return inOwnUse({ versions: new Set([String(version)]) }, () => original.call(this, version, ...rest));
		},
	);
	const save = wrapMethod(VersionsService, 'save', (original) =>
		async function (this: ServiceInstance, key: unknown, ...rest: unknown[]) {
			const delta = await inOwnUse({ versions: new Set([String(key)]) }, () => original.call(this, key, ...rest));
			if (!this.accountability) return delta;
			const version = await this.knex('directus_versions').select('collection').where('id', key).first();
			return maskDelta(String(version?.['collection']), delta, this.schema);
		},
	);
	return promote && save;
}

/** revert uses its revision unmasked (it returns nothing). */
export function scopeRevisionUses(RevisionsService: Service): boolean {
	return wrapMethod(RevisionsService, 'revert', (original) =>
		function (this: ServiceInstance, pk: unknown, ...rest: unknown[]) {
			return inOwnUse({ revisions: new Set([String(pk)]) }, () => original.call(this, pk, ...rest));
		},
	);
}
