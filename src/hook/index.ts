import { defineHook } from '@directus/extensions-sdk';
import type { Accountability, FilterHandler, Query, SchemaOverview } from '@directus/types';
import { runtimeFor } from '../config/index.js';
import { dialectOf } from '../lib/dialect.js';
import { credentialsBodyParser } from '../endpoint/body-parser.js';
import { credentialsErrorShape } from '../endpoint/http.js';
import { takeServerSecretHeader } from '../endpoint/auth.js';
import { registerCli } from './cli/index.js';
import { checkKeysAtStart } from './handlers/key-check.js';
import { watchKeys } from '../keys/watch.js';
import { maskRows } from './handlers/mask-on-read.js';
import { emitEventsOnCreate, emitEventsOnUpdate, fixStoredOperations } from './handlers/flow-operations.js';
import { assertNoPlaintext } from './handlers/plaintext-guard.js';
import { guardCreate, guardDelete, guardItemReference, guardUpdate } from './handlers/owner-guard.js';
import { guardMetaCounts } from './handlers/guard-counts.js';
import { guardSilentReads } from './handlers/guard-silent-reads.js';
import { readForOwnUse, scopeRevisionUses, scopeVersionUses } from './handlers/draft-scope.js';
import { CollabGuard, isCollabMessage } from './handlers/guard-collab.js';
import { SubscriptionGuard, isSubscribeMessage } from './handlers/guard-subscriptions.js';
import { directusWebSocketClass } from '../lib/directus-runtime.js';
import { guardQuery } from './handlers/query-guard.js';
import { adminOnlyRead, guardAuditSchema, guardIdentityDelete, guardIdentityWrite, refuseRecordWrite } from './handlers/internal-collections.js';
import { scrubDatabaseError, scrubErrorAnswers } from './handlers/scrub-errors.js';
import { scrubLogStream } from './handlers/scrub-logs.js';
import { guardGraphqlErrors } from './handlers/guard-graphql-errors.js';
import { freezeVaultIdentity, setVaultIdentity } from './handlers/vault-identity.js';
import type { WriteDeps } from '../protection/deps.js';
import { protectCreate, protectUpdate } from './handlers/protect-on-write.js';
import { onFieldWrite } from './handlers/field-registry.js';
import { protectVersionRevision, protectVersionRevisionUpdate, protectVersionUpdate, sealDraftSaveBody, type VersionTarget } from './handlers/protect-versions.js';

type Payload = Record<string, unknown>;
type GuardContext = { schema: SchemaOverview | null; accountability: Accountability | null };
type SocketClient = { uid?: string; accountability?: Accountability | null; send: (data: unknown, ...rest: unknown[]) => unknown };

/**
 * Wiring only. Filters run in registration order, so ownership is checked before anything is
 * encrypted or written; every write of a protected field passes protect-on-write, every read
 * mask-on-read.
 */
export default defineHook(({ filter: registerFilter, action, init }, { services, database, getSchema, env, logger }) => {
	const runtime = runtimeFor(env);
	const { config, fields } = runtime;
	// Every filter first takes the fields the data model marks from the schema Directus hands it: after a
	// field changed (on this instance or, through Directus's schema sync, another) that schema is a new one.
	const filter: typeof registerFilter = <T>(event: string, handler: FilterHandler<T>) =>
		registerFilter<T>(event, (payload, meta, context) => {
			fields.sync(context?.schema);
			return handler(payload, meta, context);
		});
	// Wrapped data keys live in the database: the keyring is loaded from it once Directus hands it over.
	runtime.attach(database, logger);
	for (const warning of config.warnings) logger.warn(`[credentials] ${warning}`);

	const deps: WriteDeps = { keys: runtime.keys, fields, missingKeyIds: () => runtime.missingKeyIds };

	// SQLite: a rotation in another process holds the write lock for one batch; wait rather than fail.
	if (dialectOf(database) === 'sqlite') void database.raw('PRAGMA busy_timeout = 5000').catch(() => undefined);

	// At start: are the configured keys the ones the data was written with?
	action('server.start', () => void checkKeysAtStart(runtime, database, getSchema, logger));
	// While serving: data keys added, promoted or rewrapped elsewhere are picked up, and this instance says which it reads.
	action('server.start', () => watchKeys({ reload: runtime.reload, unwrappedIds: () => runtime.hierarchy.unwrappedIds(), pollMs: config.keysPollMs }, database, logger));

	// Every read's query (items and system collections alike, which reach owned rows through relations):
	// no filter, sort, group, aggregate or search on a protected field; owned rows only, at every depth.
	// Also: the audit and the identities are read by admins only, whatever a policy grants.
	const guard = (query: Query, collection: string, context: GuardContext) => guardQuery(fields, adminOnlyRead(query, collection, context.accountability), collection, context);
	filter('*.query', (query, meta, context) => guard(query as Query, meta['collection'], context));
	// Counts (meta=filter_count/total_count, REST and websockets) never emit items.query: the same guard at their seam.
	if (!guardMetaCounts(services.MetaService, guard)) {
		logger.error('[credentials] MetaService.filterCount not found: meta counts of owned collections are not limited to the caller');
	}
	// Silent reads (emitEvents: false) with a user's accountability — the manual flow trigger's key check — get the same guard and mask.
	// So do `?version=` reads, which return before the read filters.
	if (!guardSilentReads(services.ItemsService, guard, (collection, rows, schema, query) => maskRows(fields, collection, rows, { schema, query }))) {
		logger.error('[credentials] ItemsService.readByQuery, readOne or readSingleton not found: reads without events and `?version=` reads are not limited to the caller nor masked');
	}
	// Drafts and revisions are read unmasked only by Directus's own promote, save and revert, which write them back.
	const maskDelta = (collection: string, delta: unknown, schema: SchemaOverview) => {
		maskRows(fields, 'directus_versions', { collection, delta }, { schema });
		return delta;
	};
	if (!scopeVersionUses(services.VersionsService, maskDelta) || !scopeRevisionUses(services.RevisionsService)) {
		logger.error('[credentials] VersionsService.promote/save or RevisionsService.revert not found: drafts and revisions with protected fields cannot be promoted or reverted');
	}
	// Collaborative-editing rooms: joins on owned items only by their owner; protected values never enter a room.
	const collab = new CollabGuard(fields);
	// Subscriptions: one item of an owned collection only by its owner; delete events carry only the subscriber's own keys.
	const subscriptions = new SubscriptionGuard();
	if (!subscriptions.guardSends(directusWebSocketClass())) {
		logger.error('[credentials] Directus\'s websocket class not found: subscription delete events of owned collections are not limited to the subscriber');
	}
	filter('websocket.message', async (message, meta) => {
		const client = meta['client'] as SocketClient;
		if (isCollabMessage(message)) return collab.message(message, { database, schema: await getSchema(), accountability: client?.accountability ?? null });
		if (isSubscribeMessage(message)) return subscriptions.onSubscribe(message, client, database, await getSchema());
		return message;
	});
	// Without websockets (Directus's default) nobody can subscribe: deletes then cost no owner lookup.
	if (String(env['WEBSOCKETS_ENABLED']) === 'true') {
		filter('items.delete', async (keys, meta, context) => {
			await subscriptions.beforeDelete(meta['collection'], keys as never, context.database, context.schema);
			return keys;
		});
	}
	// The audit is append-only and, like identities, read by admins only; identities are created with their token elsewhere.
	filter('items.create', (payload, meta, context) => guardIdentityWrite(refuseRecordWrite(payload as Payload, meta['collection']), meta['collection'], 'create', context.accountability));
	filter('items.update', (payload, meta, context) => guardIdentityWrite(refuseRecordWrite(payload as Payload, meta['collection']), meta['collection'], 'update', context.accountability));
	filter('items.delete', (keys, meta, context) => guardIdentityDelete(refuseRecordWrite(keys, meta['collection']), meta['collection'], context.accountability));
	if (!guardAuditSchema(services)) logger.error('[credentials] CollectionsService, FieldsService or RelationsService methods not found: an admin could drop or reshape credentials_audit through Directus');
	filter('items.create', (payload, meta, context) => guardCreate(payload as Payload, meta['collection'], context));
	filter('items.update', (payload, meta, context) => guardUpdate(payload as Payload, meta['collection'], meta['keys'], context));
	// Comments, shares and content versions point at an item: only at the caller's own.
	for (const event of ['comments.create', 'shares.create', 'versions.create']) filter(event, (payload, _meta, context) => guardItemReference(payload as Payload, context));
	filter('items.delete', (keys, meta, context) => guardDelete(keys as never, meta['collection'], context));

	filter('items.create', (payload, meta, context) => setVaultIdentity(payload as Payload, meta['collection'], context.accountability));
	filter('items.update', (payload, meta, context) => freezeVaultIdentity(payload as Payload, meta['collection'], meta['keys'], context.database));

	filter('items.create', (payload, meta, context) => protectCreate(deps, payload as Payload, meta['collection'], context));
	filter('items.update', (payload, meta, context) =>
		protectUpdate(deps, payload as Payload, { collection: meta['collection'], keys: meta['keys'] }, context, async (key, values) => {
			const rowService = new services.ItemsService(meta['collection'], {
				schema: context.schema ?? (await getSchema()),
				accountability: context.accountability,
				knex: context.database,
			});
			await rowService.updateOne(key, values);
		}),
	);

	// Content versioning stores drafts and their revisions without item events: seal them there.
	filter('versions.update', (payload, meta, context) => protectVersionUpdate(deps, payload as Payload, meta['keys'], context));
	filter('revisions.create', (payload, _meta, context) => protectVersionRevision(deps, payload as Payload, context));
	filter('revisions.update', (payload, meta, context) => protectVersionRevisionUpdate(deps, payload as Payload, meta['keys'], context));
	init('routes.before', ({ app }) =>
		app.post(
			'/versions/:pk/save',
			sealDraftSaveBody(deps, async (req) => {
				const versions = new services.VersionsService({ schema: req.schema ?? (await getSchema()), accountability: req.accountability as never });
				return (await versions.readOne(req.params['pk']!, { fields: ['collection', 'item'] })) as VersionTarget;
			}),
		),
	);

	// The data model as the registry: the "Encrypted secret" interface (or the mark in `special`) protects a
	// field, on every instance without a restart; un-protecting a field that holds sealed values is refused.
	for (const event of ['fields.create', 'fields.update']) {
		filter(event, (payload, meta, context) => onFieldWrite(fields, payload as Payload, meta['collection'], { schema: context.schema, database: context.database }));
	}

	// Flow item operations that can reach protected or owned rows always emit events: events off would skip every guard.
	filter('operations.create', (payload) => emitEventsOnCreate(fields, payload as Payload));
	filter('operations.update', (payload, meta, context) => emitEventsOnUpdate(fields, payload as Payload, meta['keys'], context.database));
	// Operations stored with events off before: fixed before the server takes requests (OperationsService reloads the flows),
	// and again when a field is protected from the data model (operations on its collection saved before then).
	const fixFlows = async () => {
		try {
			const schema = await getSchema();
			// Known before the first request, for the guard below the services; after a field change, at once.
			fields.sync(schema);
			const operations = new services.OperationsService({ schema, knex: database });
			const fixed = await fixStoredOperations(fields, database, (id, options) => operations.updateOne(id, { options }));
			if (fixed > 0) logger.warn(`[credentials] ${fixed} flow operation(s) on protected or owned collections had "Emit Events" off: switched on`);
		} catch (error) {
			logger.error(`[credentials] could not check flow operations for "Emit Events": ${(error as Error).message}`);
		}
	};
	init('app.before', fixFlows);
	for (const event of ['fields.create', 'fields.update']) action(event, fixFlows);

	if (!scrubLogStream(logger)) logger.error('[credentials] Directus\'s log stream not found: log lines are not scrubbed of envelopes');
	// GraphQL quotes the variables and literals it cannot take, and logs them before any hook runs.
	if (!guardGraphqlErrors(services.GraphQLService, fields)) logger.error('[credentials] GraphQLService.execute not found: GraphQL errors may quote protected values');
	// Database errors quote the refused value: never a protected one (answers and log lines alike).
	filter('database.error', (error) => scrubDatabaseError(fields, error));

	// Below the services: no INSERT/UPDATE may put anything but a well-formed envelope under a configured key into a protected column.
	database.on('start', (builder) => assertNoPlaintext(fields, builder, () => runtime.keyIds));

	// Internal reads (accountability null) see ciphertext; every request — admins included — sees the mask,
	// on every collection: items, and system collections that hold payloads (revisions, drafts) or relate to items.
	filter('*.read', (rows, meta, context) => {
		if (!context.accountability || readForOwnUse(meta['collection'], rows)) return rows;
		return maskRows(fields, meta['collection'], rows, { schema: context.schema, query: meta['query'] as Query });
	});

	// The endpoint's HTTP edge around Directus's own middleware: our JSON parsing (bad bodies answer
	// in the routes' shape), and errors raised before the router (an invalid token) in that shape too.
	init('middlewares.before', ({ app }) => {
		// The server secret header leaves every request before Directus's HTTP logger sees it.
		app.use(takeServerSecretHeader);
		// Error answers (REST, GraphQL, the routes) never quote a protected value sent, nor an envelope.
		app.use(scrubErrorAnswers(fields));
		app.use('/credentials', credentialsBodyParser);
	});
	init('middlewares.after', ({ app }) => app.use('/credentials', credentialsErrorShape));

	init('cli.before', ({ program }) => registerCli(program, { services, database, getSchema, runtime }));
});
