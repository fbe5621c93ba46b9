import type { SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import { DraftUncheckableError, NestedVersionSecretError, VersionBatchError } from '../../errors.js';
import { classifyStored } from '../../crypto/index.js';
import { MASK } from '../../lib/mask.js';
import { sealFields, withoutMaskEchoes, withPrimaryKey, type PrimaryKey } from '../../protection/codec.js';
import { requireRing, type WriteDeps } from '../../protection/deps.js';
import { isRecord, rowRelation } from './schema-paths.js';

/**
 * Content versioning keeps drafts outside the item events: `POST /versions/:id/save` writes the
 * delta to directus_versions and a copy to directus_revisions, and no items.update filter runs.
 * The protected values of a draft are sealed there too, bound to the versioned item, so a draft
 * holds ciphertext only — and promote hands the item hook an envelope that already belongs to
 * that row, which it accepts unchanged.
 */

type Payload = Record<string, unknown>;

export interface VersionTarget {
	collection: string;
	item: PrimaryKey | null;
}

interface FilterContext {
	schema: SchemaOverview | null;
	database?: Knex;
}

const ALTERATIONS = ['create', 'update', 'delete'] as const;

/**
 * One draft delta with its top-level protected fields sealed (a new object). A draft of an item
 * that does not exist yet gets its primary key now (as a create would), so its values can be
 * bound to it.
 */
export async function sealDelta(deps: WriteDeps, schema: SchemaOverview | null, target: VersionTarget, delta: Payload): Promise<Payload> {
	const { collection } = target;
	const { payload: cleaned, written } = secretsIn(deps, schema, collection, delta);
	if (written.length === 0) return cleaned;
	const ring = await requireRing(deps);
	const { payload: keyed, pk } = withPrimaryKey(schema, collection, cleaned, target.item);
	return sealFields(ring, schema, collection, pk, written, keyed);
}

interface DraftSaveRequest {
	params: Record<string, string>;
	body?: unknown;
	schema?: SchemaOverview;
	accountability?: unknown;
}

/**
 * `POST /versions/:id/save` answers with the merged draft; sealing the request body before
 * Directus's controller means that answer carries the envelope, not the plaintext just sent.
 * The version is read with the caller's own accountability: one they may not read is left to
 * Directus to refuse, and reveals nothing here.
 */
export function sealDraftSaveBody(deps: WriteDeps, readVersion: (req: DraftSaveRequest) => Promise<VersionTarget | null>) {
	return async (req: DraftSaveRequest, _res: unknown, next: (error?: unknown) => void) => {
		try {
			const body = req.body;
			// A version the caller may not read is Directus's to refuse (403), before anything about the body.
			const target = body === undefined || body === null ? null : await readVersion(req).catch(() => null);
			if (!target) return next();
			// An array (or a scalar) is merged by Directus as `{ "0": … }`: no field of the collection, nothing to seal by name.
			if (!isRecord(body)) throw new DraftUncheckableError({ reason: 'the changes must be one object of field values' });
			req.body = await sealDelta(deps, req.schema ?? null, target, body);
			next();
		} catch (error) {
			next(error);
		}
	};
}

/** `versions.update` with a delta: the write `save` makes after merging the new changes in. */
export async function protectVersionUpdate(deps: WriteDeps, payload: Payload, keys: PrimaryKey[], context: FilterContext): Promise<Payload> {
	const delta = payload?.['delta'];
	if (!isRecord(delta) || !context.database) return payload;
	const targets: VersionTarget[] = await context.database('directus_versions').select('collection', 'item').whereIn('id', keys);
	if (targets.length === 1) return { ...payload, delta: await sealDelta(deps, context.schema, targets[0]!, delta) };
	// One delta for several drafts cannot carry one ciphertext per item.
	if (targets.some((t) => secretsIn(deps, context.schema, t.collection, delta).written.length > 0)) throw new VersionBatchError();
	return payload;
}

/** `revisions.create` for a draft save: the revision's data and delta hold the same changes. */
export async function protectVersionRevision(deps: WriteDeps, payload: Payload, context: FilterContext): Promise<Payload> {
	if (!payload) return payload;
	const target = { collection: String(payload['collection']), item: (payload['item'] as PrimaryKey) ?? null };
	if (payload['version'] === null || payload['version'] === undefined) return sealPlaintextSnapshot(deps, payload, target, context);
	return sealRevision(deps, payload, target, context);
}

/**
 * An item's revision copies the whole row as stored. A field added to CREDENTIALS_ENCRYPTED_FIELDS
 * still holds plaintext until `encrypt-existing` — its copy in the revision is sealed for the row
 * here, so revisions (and the SQL they take to write) never hold more plaintext than the row itself
 * already did. Everything else (envelopes, legacy values) is copied as it is.
 */
async function sealPlaintextSnapshot(deps: WriteDeps, payload: Payload, target: VersionTarget, context: FilterContext): Promise<Payload> {
	const fields = deps.fields.of(target.collection);
	if (fields.length === 0 || target.item === null) return payload;
	const plain = (part: Payload, field: string) => part[field] !== MASK && classifyStored(part[field]).format === 'plaintext';
	if (!revisionParts(payload).some(([, part]) => fields.some((field) => plain(part, field)))) return payload;
	const ring = await requireRing(deps);
	const out = { ...payload };
	for (const [name, part] of revisionParts(payload)) out[name] = sealFields(ring, context.schema, target.collection, target.item, fields.filter((field) => plain(part, field)), part);
	return out;
}

/** `revisions.update`: `save ?patchRevision` merges the new changes into the draft's last revision. */
export async function protectVersionRevisionUpdate(deps: WriteDeps, payload: Payload, keys: PrimaryKey[], context: FilterContext): Promise<Payload> {
	if (!payload || !(isRecord(payload['data']) || isRecord(payload['delta'])) || !context.database) return payload;
	const rows: (VersionTarget & { version: unknown })[] = await context.database('directus_revisions').select('collection', 'item', 'version').whereIn('id', keys);
	const drafts = rows.filter((r) => r.version !== null && r.version !== undefined);
	if (drafts.length === 1 && keys.length === 1) return sealRevision(deps, payload, drafts[0]!, context);
	for (const draft of drafts) {
		for (const [, part] of revisionParts(payload)) if (secretsIn(deps, context.schema, draft.collection, part).written.length > 0) throw new VersionBatchError();
	}
	return payload;
}

async function sealRevision(deps: WriteDeps, payload: Payload, target: VersionTarget, context: FilterContext): Promise<Payload> {
	const out = { ...payload };
	for (const [name, part] of revisionParts(payload)) out[name] = await sealDelta(deps, context.schema, target, part);
	return out;
}

/** A revision's `data` and `delta`, where they are objects. */
function revisionParts(payload: Payload): [string, Payload][] {
	return (['data', 'delta'] as const).flatMap((name) => (isRecord(payload[name]) ? [[name, payload[name]] as [string, Payload]] : []));
}

/**
 * The protected fields a delta sets at its top level. A protected field inside an inline related
 * item is refused here: see refuseNestedSecrets.
 */
function secretsIn(deps: WriteDeps, schema: SchemaOverview | null, collection: string, delta: Payload): { payload: Payload; written: string[] } {
	refuseNestedSecrets(deps, schema, collection, delta, 0);
	const { payload, written } = withoutMaskEchoes(deps.fields, collection, delta);
	return { payload, written: written.filter((field) => payload[field] !== null && payload[field] !== undefined) };
}

/**
 * A draft may carry related items inline (`{ creator_profile_id: { encrypted_credentials: … } }`).
 * Those have no row of their own yet to bind a value to, so a protected field there is refused
 * rather than stored in the clear; it can be saved on the related item itself. What cannot be
 * checked is refused too, never stored unchecked: structure under a key that is no field of the
 * collection, nesting deeper than MAX_DRAFT_DEPTH, or any structure when the schema is unknown.
 */
const MAX_DRAFT_DEPTH = 16;
/** Who changed a draft's item and when: Directus stamps each item of a delta with these. */
const STAMPS = new Set(['_user', '_date']);

function refuseNestedSecrets(deps: WriteDeps, schema: SchemaOverview | null, collection: string, node: Payload, depth: number): void {
	for (const [field, value] of Object.entries(node)) {
		if (STAMPS.has(field) || (!isRecord(value) && !Array.isArray(value))) continue;
		if (!schema) throw new DraftUncheckableError({ reason: 'the schema is not available to check related items' });
		if (depth >= MAX_DRAFT_DEPTH) throw new DraftUncheckableError({ reason: `related items are nested deeper than ${MAX_DRAFT_DEPTH} levels` });
		const related = rowRelation(schema.relations, collection, field, node)?.target ?? null;
		if (related) visitRelated(deps, schema, related, value, depth + 1);
		else if (!schema.collections[collection]?.fields[field]) throw new DraftUncheckableError({ reason: `"${field}" is not a field of ${collection}` });
	}
}

function visitRelated(deps: WriteDeps, schema: SchemaOverview, collection: string, value: unknown, depth: number): void {
	if (Array.isArray(value)) {
		for (const entry of value) visitRelated(deps, schema, collection, entry, depth);
		return;
	}
	if (!isRecord(value)) return;
	if (ALTERATIONS.some((action) => Array.isArray(value[action]))) {
		for (const action of ALTERATIONS) visitRelated(deps, schema, collection, value[action], depth);
		return;
	}
	for (const field of deps.fields.of(collection)) {
		if (value[field] !== null && value[field] !== undefined) throw new NestedVersionSecretError({ collection, field });
	}
	refuseNestedSecrets(deps, schema, collection, value, depth);
}
