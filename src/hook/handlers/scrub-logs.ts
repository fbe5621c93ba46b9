import { scrubText } from './scrub-errors.js';

/**
 * Directus logs errors whole and streams the same lines to admins on `/websocket/logs`. The
 * values such lines could quote are scrubbed where they arise (database errors, GraphQL errors);
 * as a last line, every line loses any envelope on its way to the log stream. (Nothing here keeps
 * per-request state: an AsyncLocalStorage around every request would slow every request.)
 */
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
	stream.write = (chunk: unknown, ...rest: unknown[]) => original(typeof chunk === 'string' && chunk.includes('cred:v2:') ? scrubText(chunk, []) : chunk, ...rest);
	return true;
}

function pinoStream(logger: object): Writable | null {
	for (let level: object | null = logger; level; level = Object.getPrototypeOf(level)) {
		const symbol = Object.getOwnPropertySymbols(level).find((s) => s.description === 'pino.stream');
		if (symbol) return (logger as Record<symbol, Writable>)[symbol] ?? null;
	}
	return null;
}
