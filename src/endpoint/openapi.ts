import { z } from 'zod';
import type { RouteDef } from './route.js';
import { ErrorResponse } from '../contracts/fields.js';

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) for one zod schema, without the $schema marker. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
	const { $schema: _omit, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
	return rest;
}

/** The OpenAPI 3.1 document, generated from the same zod schemas the routes parse with. */
export function openApiDocument(routes: readonly RouteDef[], version: string) {
	const error = { content: { 'application/json': { schema: jsonSchema(ErrorResponse, 'output') } } };
	const paths: Record<string, Record<string, unknown>> = {};
	for (const route of routes) {
		const path = `/credentials${route.path === '/' ? '' : route.path.replace(/:(\w+)/g, '{$1}')}`;
		const { input } = route;
		const parameters =
			input && input.from !== 'body'
				? Object.entries((jsonSchema(input.schema, 'input')['properties'] ?? {}) as Record<string, unknown>).map(([name, schema]) => ({
						name,
						in: input.from === 'params' ? 'path' : 'query',
						required: input.from === 'params',
						schema,
					}))
				: [];
		paths[path] ??= {};
		paths[path][route.method] = {
			summary: route.summary,
			security:
				route.auth === 'user' || route.auth === 'admin' ? [{ directusToken: [] }] : route.auth === 'server' ? [{ machineIdentity: [route.path.slice(1)] }, { serverSecret: [] }] : [],
			...(parameters.length > 0 && { parameters }),
			...(input?.from === 'body' && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(input.schema, 'input') } } } }),
			responses: {
				[String(route.status ?? 200)]: route.status === 204 ? { description: 'Done' } : { description: 'Success', content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } },
				'4XX': {
					description:
						route.auth === 'server'
							? "Invalid input (400), unauthorised (401: wrong, revoked or expired token), route outside the identity's scope (403), not found or outside its scope (404), over its rate limit or too many failed attempts (429)"
							: 'Invalid input, unauthorised, forbidden or not found',
					...error,
				},
				'5XX': { description: 'Misconfiguration (key or secret not set) or undecryptable stored value', ...error },
			},
		};
	}
	return {
		openapi: '3.1.0',
		info: { title: 'directus-extension-credentials', version, description: 'Credentials API served by the Directus endpoint extension at /credentials.' },
		components: {
			securitySchemes: {
				directusToken: { type: 'http', scheme: 'bearer', description: 'Directus access token, static token or session cookie' },
				machineIdentity: {
					type: 'apiKey',
					in: 'header',
					name: 'X-RBAC-SYNC-SECRET',
					description:
						'A machine identity\'s token (`cid_` + 43 characters), created by an admin (`credentials identities create` or POST /credentials/identities) and scoped to routes (the scope names here), optionally to collections, platforms and services, with an optional expiry and reveals-per-minute limit. Stored only as its SHA-256 digest.',
				},
				serverSecret: {
					type: 'apiKey',
					in: 'header',
					name: 'X-RBAC-SYNC-SECRET',
					description: 'The legacy shared secret (RBAC_SYNC_WEBHOOK_SECRET): every server route and row, no limit. `credentials status` warns while it is the only way in.',
				},
			},
		},
		paths,
	};
}
