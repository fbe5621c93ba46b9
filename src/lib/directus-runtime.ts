import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Modules of the Directus this process runs, for the few seams its extension context does not hand out:
 * resolved from where Directus is installed — the `directus` CLI that started the process, else the
 * working directory — so that they are the very instances Directus itself loaded (11 and 12 alike).
 */
export function resolveFromDirectus(specifier: string): string | undefined {
	for (const base of [process.argv[1], join(process.cwd(), 'index.js')]) {
		if (!base) continue;
		try {
			return createRequire(base).resolve(specifier);
		} catch {
			/* not from here: try the next base */
		}
	}
	return undefined;
}

/** Directus's own WebSocket class (`ws`, as its websocket servers hand out clients). */
export function directusWebSocketClass(): { prototype: object } | undefined {
	const api = resolveFromDirectus('@directus/api');
	if (!api) return undefined;
	try {
		const ws = createRequire(api)('ws') as { WebSocket?: { prototype: { send?: unknown } } } & { prototype?: { send?: unknown } };
		const WebSocket = ws.WebSocket ?? ws;
		return typeof WebSocket.prototype?.send === 'function' ? (WebSocket as { prototype: object }) : undefined;
	} catch {
		return undefined;
	}
}

export interface CoreEmitter {
	emitAction(event: string, meta: Record<string, unknown>, context: unknown): void;
}

/**
 * Directus's core event bus. The `emitter` an extension is given is a bus of its own, isolated from the
 * core events: an action emitted there reaches no flow. Flows listen on this one.
 */
export async function directusCoreEmitter(): Promise<CoreEmitter | undefined> {
	const path = resolveFromDirectus('@directus/api/emitter');
	if (!path) return undefined;
	try {
		const module = (await import(pathToFileURL(path).href)) as { useEmitter?: () => CoreEmitter };
		const emitter = module.useEmitter?.();
		return typeof emitter?.emitAction === 'function' ? emitter : undefined;
	} catch {
		return undefined;
	}
}

/** Directus's Redis connection when it is configured to use one (REDIS / REDIS_HOST…), else undefined. */
export async function directusRedis<T>(): Promise<T | undefined> {
	// The package maps `@directus/api/*` to `dist/*.js`: the redis module is a folder.
	const path = resolveFromDirectus('@directus/api/redis/index');
	if (!path) return undefined;
	try {
		const module = (await import(pathToFileURL(path).href)) as { redisConfigAvailable?: () => boolean; useRedis?: () => T };
		return module.redisConfigAvailable?.() ? module.useRedis?.() : undefined;
	} catch {
		return undefined;
	}
}
