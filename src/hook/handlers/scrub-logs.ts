import { AsyncLocalStorage } from 'node:async_hooks';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { scrubText, secretsSent } from './scrub-errors.js';

/**
 * Directus logs errors whole — the GraphQL error processor at `error`, the error handler at
 * `debug` — before any hook can see them, and streams the same lines to admins on
 * `/websocket/logs`. So the log stream itself is the seam: every line written while a request is
 * handled loses what that request sent under a protected field's name, and every line loses any
 * envelope. Lines are plain strings here (JSON, before any pretty-printing), so a secret is
 * matched as sent and as JSON escapes it.
 */
const requestSecrets = new AsyncLocalStorage<() => readonly string[]>();

interface RequestLike {
	path: string;
	body?: unknown;
}

/** Express middleware: the request's secrets, computed once and only when a line is written. */
export function rememberRequestSecrets(fields: ProtectedFields) {
	return (req: RequestLike, _res: unknown, next: () => void): void => {
		let secrets: readonly string[] | undefined;
		const lazily = () => {
			if (secrets) return secrets;
			const found = secretsSent(fields, req.path, req.body);
			const escaped = found.map((s) => JSON.stringify(s).slice(1, -1)).filter((s, i) => s !== found[i]);
			const all = [...found, ...escaped].sort((a, b) => b.length - a.length);
			// The body is parsed after this middleware: keep the answer only once there is one.
			if (req.body !== undefined) secrets = all;
			return all;
		};
		requestSecrets.run(lazily, next);
	};
}

interface Writable {
	write: (chunk: unknown, ...rest: unknown[]) => unknown;
}
const WRAPPED = Symbol.for('directus-extension-credentials:scrubbed-log-stream');

/** Wraps the destination of Directus's logger (pino keeps it under a symbol). False when it is not found. */
export function scrubLogStream(logger: object): boolean {
	const stream = pinoStream(logger);
	if (!stream || typeof stream.write !== 'function') return false;
	const marked = stream as Writable & { [WRAPPED]?: Writable['write'] };
	const original = marked[WRAPPED] ?? stream.write.bind(stream);
	marked[WRAPPED] = original;
	stream.write = (chunk: unknown, ...rest: unknown[]) => original(typeof chunk === 'string' ? scrubText(chunk, requestSecrets.getStore()?.() ?? []) : chunk, ...rest);
	return true;
}

function pinoStream(logger: object): Writable | null {
	for (let level: object | null = logger; level; level = Object.getPrototypeOf(level)) {
		const symbol = Object.getOwnPropertySymbols(level).find((s) => s.description === 'pino.stream');
		if (symbol) return (logger as Record<symbol, Writable>)[symbol] ?? null;
	}
	return null;
}
