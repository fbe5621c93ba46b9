import type { Accountability, SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import type { Keyring } from '../crypto/index.js';
import type { KeyringState } from '../config/index.js';
import type { HierarchyView } from '../keys/hierarchy.js';
import type { ProtectedFields } from '../schema/protected-fields.js';
import { NotConfiguredError } from '../errors.js';
import type { RevealReport } from '../contracts/reveal-event.js';

/* Directus passes its service classes in the extension context; @directus/api has no public types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DirectusServices = Record<string, any>;

/** What every service needs from Directus, for one request. */
export interface ServiceDeps {
	services: DirectusServices;
	database: Knex;
	schema: SchemaOverview;
	keys: KeyringState;
	fields: ProtectedFields;
	/** Directus's SECRET, for values its `encrypt` special wrote (see openStoredValueAsync). */
	directusSecret: string | null;
	/** The key hierarchy as this instance holds it (status). */
	keyView?: () => HierarchyView;
	/** Tells how each reveal ended (the endpoint emits Directus's `credentials.reveal` action); never waits. */
	reportReveal?: (report: RevealReport) => void;
}

/**
 * ItemsService for a collection. With the caller's accountability Directus's policies and the
 * owner guard apply; `null` is the internal view (ciphertext, no limits) and is only used after
 * the route has authorised the caller itself.
 */
export function itemsService(deps: ServiceDeps, collection: string, accountability: Accountability | null) {
	return new deps.services.ItemsService(collection, { schema: deps.schema, knex: deps.database, accountability });
}

export function ring(deps: ServiceDeps): Keyring {
	if (!deps.keys.ok) throw new NotConfiguredError({ reason: deps.keys.error });
	return deps.keys.ring;
}
