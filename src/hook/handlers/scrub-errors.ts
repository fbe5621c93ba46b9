import { isSealed } from '../../crypto/index.js';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { MASK } from '../../lib/mask.js';

/**
 * Error messages quote what they refuse. Directus's database errors (value too long, not unique,
 * out of range, invalid foreign key) carry the refused value — for a protected field, an envelope
 * — in their message and extensions; GraphQL's input coercion quotes a variable it cannot read
 * (a credentials object sent to a text field) in full. Neither may reach an answer or a log line.
 */
type Extensions = Record<string, unknown>;
type DirectusErrorLike = { extensions?: Extensions; constructor: new (extensions: Extensions) => unknown };

const ENVELOPE = /cred:v2:[A-Za-z0-9_-]*(?::[A-Za-z0-9_-]*){0,3}/g;

/**
 * The `database.error` filter: Directus's translated error, rebuilt without its value when the
 * value belongs to a protected field or is anything but a plain scalar. The messages leave the
 * value out when it is null, so the answer still names the field and the collection.
 */
export function scrubDatabaseError(fields: ProtectedFields, error: unknown): unknown {
	const extensions = (error as DirectusErrorLike | null)?.extensions;
	if (!extensions || extensions['value'] === undefined || extensions['value'] === null) return error;
	const { collection, field, value } = extensions;
	const protectedField = typeof collection === 'string' && typeof field === 'string' && fields.has(collection, field);
	if (!protectedField && typeof value !== 'object' && !looksSealed(String(value))) return error;
	return new (error as DirectusErrorLike).constructor({ ...extensions, value: null });
}

const looksSealed = (text: string) => text.includes('cred:v2:') || isSealed(text);

/**
 * What a request sent that must not come back in an error: every string under a protected
 * field's name in its JSON body (GraphQL variables included), every string literal of a GraphQL
 * query that names a protected field, and the whole body of the extension's own routes.
 */
export function secretsSent(fields: ProtectedFields, path: string, body: unknown): string[] {
	const names = fields.names();
	const found = new Set<string>();
	const collect = (value: unknown, sensitive: boolean, depth: number): void => {
		if (depth > 64 || value === null || value === undefined) return;
		if (typeof value === 'string' || typeof value === 'number') {
			if (sensitive && String(value).length >= 4) found.add(String(value));
			return;
		}
		if (typeof value !== 'object') return;
		if (sensitive && !Array.isArray(value)) found.add(JSON.stringify(value));
		for (const [key, child] of Object.entries(value)) collect(child, sensitive || names.has(key), depth + 1);
	};
	collect(body, path.startsWith('/credentials'), 0);
	const query = (body as { query?: unknown } | null)?.query;
	if (typeof query === 'string' && [...names].some((name) => query.includes(name))) {
		for (const match of query.matchAll(/"((?:[^"\\]|\\.)*)"/g)) if (match[1]!.length >= 4) found.add(match[1]!);
	}
	// Longest first, so that a value is replaced whole before any part of it.
	return [...found].sort((a, b) => b.length - a.length);
}

/** One string without the given secrets (longest first) and without any envelope. */
export function scrubText(value: string, secrets: readonly string[]): string {
	let text = value.includes('cred:v2:') ? value.replace(ENVELOPE, MASK) : value;
	for (const secret of secrets) if (text.includes(secret)) text = text.split(secret).join(MASK);
	return text;
}

/** Replaces, in every string of an error answer, the secrets a request sent and any envelope. */
export function scrubErrorAnswer<T>(answer: T, secrets: readonly string[]): T {
	const scrub = (value: unknown, depth: number): unknown => {
		if (typeof value === 'string') return scrubText(value, secrets);
		if (!value || typeof value !== 'object' || depth > 32) return value;
		if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
	};
	return scrub(answer, 0) as T;
}

/** An answer that reports errors: Directus's `{ errors }` (REST and GraphQL) or the routes' `{ success: false }`. */
export function isErrorAnswer(body: unknown): boolean {
	if (!body || typeof body !== 'object') return false;
	return Array.isArray((body as { errors?: unknown }).errors) || (body as { success?: unknown }).success === false;
}

interface RequestLike {
	path: string;
	body?: unknown;
}
interface ResponseLike {
	json: (body: unknown) => unknown;
}

/** Express middleware (mounted before Directus's routes): every error answer leaves scrubbed. */
export function scrubErrorAnswers(fields: ProtectedFields) {
	return (req: RequestLike, res: ResponseLike, next: () => void): void => {
		const json = res.json.bind(res);
		res.json = (body: unknown) => json(isErrorAnswer(body) ? scrubErrorAnswer(body, secretsSent(fields, req.path, req.body)) : body);
		next();
	};
}
