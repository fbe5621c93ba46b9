import type { SchemaOverview } from '@directus/types';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { scrubErrorAnswer, secretsSent } from './scrub-errors.js';
import { wrapMethod } from './wrap-method.js';

/**
 * GraphQL quotes what it cannot take: variable coercion (`Variable "$d" got invalid value
 * { password: "…" }`), which Directus logs at `error` inside `execute` before any hook sees it,
 * and validation of inline literals (`String cannot represent a non string value: …`). A
 * protected text field takes only a string in GraphQL, so a variable that gives it anything else
 * would fail anyway: it is swapped for an empty object first, and fails the same way without
 * quoting the secret. Errors thrown out of `execute` leave it scrubbed of what the request sent
 * under a protected name (variables and, when the query names a protected field, its literals).
 */
interface ExecuteArgs {
	document?: { loc?: { source?: { body?: string } } };
	variables?: Record<string, unknown> | null;
}
interface GraphQLServiceInstance {
	schema: SchemaOverview;
}

export function guardGraphqlErrors(GraphQLService: { prototype: object } | undefined, fields: ProtectedFields): boolean {
	return wrapMethod(GraphQLService, 'execute', (original) =>
		async function (this: GraphQLServiceInstance, args: ExecuteArgs) {
			const textOnly = textOnlyNames(fields, this.schema);
			const variables = args?.variables ? (withoutNonStrings(args.variables, textOnly, 0) as Record<string, unknown>) : args?.variables;
			try {
				const result = await original.call(this, { ...args, variables });
				return result?.errors ? { ...result, errors: scrubErrorAnswer(result.errors, sent(fields, args)) } : result;
			} catch (error) {
				throw scrubThrown(error, sent(fields, args));
			}
		},
	);
}

const sent = (fields: ProtectedFields, args: ExecuteArgs) => secretsSent(fields, '/graphql', { query: args?.document?.loc?.source?.body, variables: args?.variables });

/** Protected field names that are a text column wherever they are protected (GraphQL `String`). */
function textOnlyNames(fields: ProtectedFields, schema: SchemaOverview | undefined): Set<string> {
	const json = new Set<string>();
	const text = new Set<string>();
	for (const { collection, field } of fields.all()) (schema?.collections[collection]?.fields[field]?.type === 'json' ? json : text).add(field);
	return new Set([...text].filter((name) => !json.has(name)));
}

function withoutNonStrings(value: unknown, textOnly: ReadonlySet<string>, depth: number): unknown {
	if (!value || typeof value !== 'object' || depth > 32) return value;
	if (Array.isArray(value)) return value.map((v) => withoutNonStrings(v, textOnly, depth + 1));
	return Object.fromEntries(
		Object.entries(value).map(([key, child]) => [key, textOnly.has(key) && child !== null && typeof child === 'object' ? {} : withoutNonStrings(child, textOnly, depth + 1)]),
	);
}

/** A DirectusError thrown by GraphQL (validation, execution): its message and extensions scrubbed in place, then rethrown. */
function scrubThrown(error: unknown, secrets: readonly string[]): unknown {
	if (!error || typeof error !== 'object') return error;
	const target = error as { message?: string; extensions?: unknown };
	const scrubbed = scrubErrorAnswer({ message: target.message, extensions: target.extensions }, secrets);
	try {
		if (typeof scrubbed.message === 'string') target.message = scrubbed.message;
		if (target.extensions !== undefined) target.extensions = scrubbed.extensions;
	} catch {
		/* a read-only property: the answer is scrubbed again on its way out */
	}
	return error;
}
