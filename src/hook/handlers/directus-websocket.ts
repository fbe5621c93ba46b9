import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Directus's own `ws` WebSocket class — the one its websocket servers (REST and GraphQL) hand out
 * as clients — found from where Directus is installed: the `directus` CLI that started the
 * process, else the working directory.
 */
export function directusWebSocketClass(): { prototype: object } | undefined {
	for (const base of [process.argv[1], join(process.cwd(), 'index.js')]) {
		if (!base) continue;
		try {
			const api = createRequire(base).resolve('@directus/api');
			const ws = createRequire(api)('ws') as { WebSocket?: { prototype: { send?: unknown } } } & { prototype?: { send?: unknown } };
			const WebSocket = ws.WebSocket ?? ws;
			if (typeof WebSocket.prototype?.send === 'function') return WebSocket as { prototype: object };
		} catch {
			/* not from here: try the next base */
		}
	}
	return undefined;
}
