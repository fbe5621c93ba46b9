import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { hasWrappedKeys, recordReader } from './store.js';
import { safeMessage } from '../lib/error-message.js';
import type { Logger as FullLogger } from '../lib/logger.js';

type Logger = Pick<FullLogger, 'warn'>;

/** Heartbeats are written when what an instance reads changes, and at least every poll (once a second at most). */
export const heartbeatMs = (pollMs: number) => Math.max(pollMs, 1000);
/**
 * An instance not heard from for three heartbeats has stopped (a restarted one comes back under a new
 * name): promote no longer waits for it. The CLI has the servers' environment, so the same poll.
 */
export const readerTtlMs = (pollMs: number) => 3 * heartbeatMs(pollMs);

/**
 * A running instance looks for wrapped keys added, promoted or rewrapped elsewhere (one indexed read each
 * poll) and says which ones it has unwrapped, so that `keys promote` waits until every live instance
 * reads a key before anything is written with it. Instances without a KEK report too: with nothing
 * unwrapped, they hold a promotion back instead of meeting rows they cannot open.
 */
export interface WatchedKeys {
	/** Reads the wrapped keys again (the runtime's keyring follows). */
	reload(): Promise<unknown>;
	/** The wrapped keys this instance holds unwrapped. */
	unwrappedIds(): string[];
	pollMs: number;
}

export function watchKeys(keys: WatchedKeys, database: Knex, logger: Logger): () => void {
	const instance = `${hostname().slice(0, 40)}:${process.pid}:${randomBytes(4).toString('hex')}`;
	let reported: string | null = null;
	let reportedAt = 0;
	let running = false;
	const tick = async () => {
		if (running) return;
		running = true;
		const startedAt = Date.now();
		try {
			if (!(await hasWrappedKeys(database))) return; // setup has not run (or is older): nothing to read
			await keys.reload();
			const ids = keys.unwrappedIds().join(',');
			if (ids !== reported || Date.now() - reportedAt >= heartbeatMs(keys.pollMs)) {
				await recordReader(database, instance, keys.unwrappedIds());
				reported = ids;
				reportedAt = startedAt;
			}
		} catch (error) {
			logger.warn(`[credentials] looking for new data keys failed: ${safeMessage(error)}`);
		} finally {
			running = false;
		}
	};
	void tick();
	const timer = setInterval(() => void tick(), keys.pollMs);
	timer.unref();
	return () => clearInterval(timer);
}
