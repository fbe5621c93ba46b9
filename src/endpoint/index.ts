import { defineEndpoint } from '@directus/extensions-sdk';
import type { SchemaOverview } from '@directus/types';
import type { Request } from 'express';
import { runtimeFor } from '../config/index.js';
import { REVEAL_EVENT, type RevealReport } from '../contracts/reveal-event.js';
import { directusCoreEmitter } from '../lib/directus-runtime.js';
import { safeMessage } from '../lib/error-message.js';
import type { ServiceDeps } from '../services/deps.js';
import type { Caller } from '../services/caller.js';
import type { ServerRoute } from '../contracts/identities.js';
import { directusCounter } from '../lib/rate-window.js';
import { IDENTITIES_COLLECTION } from '../schema/collections.js';
import { admitToRoute } from '../services/admission.js';
import { identityForToken } from '../services/identities.js';
import { requireAdmin, requireMachine, requireUser, type MachineAuth } from './auth.js';
import { asyncRoute, sendError } from './http.js';
import { openApiDocument } from './openapi.js';
import type { RouteDef } from './route.js';
import { ROUTES } from './routes/index.js';

/**
 * Wiring only: each route authorises first (so an anonymous caller learns nothing about the
 * body's schema), then parses with its zod schema, then calls its service.
 */
export default defineEndpoint({
	id: 'credentials',
	handler: (router, { services, database, getSchema, env, logger }) => {
		const runtime = runtimeFor(env);
		// The hook attaches it too; should Directus ever hand the two different env objects, keys still load here.
		runtime.attach(database, logger);
		const { config, fields } = runtime;
		const onUnexpected = (error: unknown) =>
			// The message only (and its cause's, without the statement): stacks and Directus errors can carry payload fragments.
			logger.error(
				`[credentials] unexpected error: ${error instanceof Error ? `${error.name}: ${error.message}${error.cause ? ` (cause: ${safeMessage(error.cause)})` : ''}` : 'unknown'}`,
			);

		// No answer here is for a cache: reveals carry plaintext, and metadata must be read fresh after a write.
		router.use((_req, res, next) => {
			res.setHeader('Cache-Control', 'no-store');
			next();
		});

		// Fail closed: without a usable key no route works, and the answer says which setting is wrong.
		router.use((_req, res, next) => {
			runtime.keys().then((keys) => (keys.ok ? next() : sendError(res, 500, keys.error)), next);
		});

		// Reveals are reported on Directus's core bus, where flows listen (the context's emitter reaches none).
		const core = directusCoreEmitter().then((emitter) => {
			if (!emitter) logger.error(`[credentials] Directus's event bus not found: the ${REVEAL_EVENT} action is not emitted, and flows do not hear of reveals`);
			return emitter;
		});
		// A listener that throws must not reach the request, nor go unhandled (it would end the process).
		const reportRevealOf = (caller: Caller, schema: SchemaOverview) => (report: RevealReport) =>
			void core
				.then((emitter) => emitter?.emitAction(REVEAL_EVENT, report, { database, schema, accountability: caller.kind === 'user' ? caller.accountability : null }))
				.catch((error: unknown) => logger.warn(`[credentials] a ${REVEAL_EVENT} listener failed: ${safeMessage(error)}`));

		const document = openApiDocument(ROUTES, '0.1.0');
		router.get('/openapi.json', (_req, res) => res.json(document));

		// Rate windows (identities' reveals, failed attempts per address): in Redis when Directus uses it, so instances share them.
		const counter = directusCounter(`${env['CACHE_NAMESPACE'] ?? 'directus'}:credentials-rate`, (error) =>
			logger.warn(`[credentials] rate window in Redis failed, counting in this process: ${safeMessage(error)}`),
		).then(({ counter, shared }) => {
			if (!shared && (env['REDIS'] || env['REDIS_HOST'])) logger.warn("[credentials] Directus's Redis client not found: rate limits are counted per instance");
			return counter;
		});
		// Built once: the counter settles at start; the schema is the request's own (read once per request).
		const machineAuth = counter.then((failedAttempts) => (schema: SchemaOverview): MachineAuth => ({
			secret: config.serverSecret,
			failedAttempts,
			maxFailedAttempts: config.failedAttemptsPerMinute,
			// Before `setup` has created the collection there is no identity to find.
			identityFor: async (token) => (schema.collections[IDENTITIES_COLLECTION] ? identityForToken(database, token) : null),
		}));

		const authorize = async (route: RouteDef, req: Request, schema: SchemaOverview): Promise<Caller> =>
			route.auth === 'server' ? requireMachine(req, (await machineAuth)(schema)) : route.auth === 'admin' ? requireAdmin(req) : requireUser(req);

		for (const route of ROUTES) {
			router[route.method](
				route.path,
				asyncRoute(async (req, res) => {
					const schema = (req as Request & { schema?: SchemaOverview }).schema ?? (await getSchema());
					const caller = await authorize(route, req, schema);
					const deps: ServiceDeps = {
						services,
						database,
						schema,
						keys: await runtime.keys(),
						fields: fields.sync(schema),
						directusSecret: runtime.config.directusSecret,
						keyView: () => runtime.hierarchy.view(),
						reportReveal: reportRevealOf(caller, schema),
					};
					if (route.auth === 'server') await admitToRoute(deps, caller, route.path.slice(1) as ServerRoute, await counter);
					const input = route.input?.schema.parse(route.input.from === 'body' ? (req.body ?? {}) : req[route.input.from]);
					const result = await route.handler(input, { deps, caller });
					if (route.status === 204) res.status(204).end();
					else res.status(route.status ?? 200).json(result);
				}, onUnexpected),
			);
		}

		router.use((_req, res) => sendError(res, 404, 'Not found'));
	},
});
