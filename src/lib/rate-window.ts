import { directusRedis } from './directus-runtime.js';

/**
 * Fixed one-minute windows of counts, per key: in this process's memory, or in Redis when Directus
 * uses it, so that several instances share one count. A Redis error falls back to this process's
 * count (the limit still holds per instance) rather than failing or opening the limit.
 */
interface RedisPipeline {
	incr(key: string): RedisPipeline;
	pexpire(key: string, ms: number): RedisPipeline;
	exec(): Promise<Array<[Error | null, unknown]> | null>;
}
/** The part of ioredis (Directus's client) this uses. */
export interface RedisLike {
	multi(): RedisPipeline;
	get(key: string): Promise<string | null>;
}

export interface WindowCounter {
	/** Adds one to the key's count in the current window; answers the count after it. */
	hit(key: string): Promise<number>;
	/** The key's count in the current window. */
	peek(key: string): Promise<number>;
}

const WINDOW_MS = 60_000;
const windowOf = (now: number) => Math.floor(now / WINDOW_MS);

export function memoryCounter(now: () => number = Date.now): WindowCounter {
	const counts = new Map<string, { window: number; count: number }>();
	const current = (key: string) => {
		const window = windowOf(now());
		const entry = counts.get(key);
		return entry && entry.window === window ? entry : undefined;
	};
	return {
		async hit(key) {
			const window = windowOf(now());
			// Stale windows are dropped as they are met, and all at once if the map grows large (many IPs).
			if (counts.size > 10_000) for (const [k, v] of counts) if (v.window !== window) counts.delete(k);
			const entry = current(key) ?? { window, count: 0 };
			entry.count += 1;
			counts.set(key, entry);
			return entry.count;
		},
		async peek(key) {
			return current(key)?.count ?? 0;
		},
	};
}

export function redisCounter(redis: RedisLike, namespace: string, fallback: WindowCounter, onError: (error: unknown) => void, now: () => number = Date.now): WindowCounter {
	const keyOf = (key: string) => `${namespace}:${key}:${windowOf(now())}`;
	return {
		async hit(key) {
			try {
				const replies = await redis.multi().incr(keyOf(key)).pexpire(keyOf(key), 2 * WINDOW_MS).exec();
				const [error, count] = replies?.[0] ?? [new Error('no reply'), null];
				if (error) throw error;
				return Number(count);
			} catch (error) {
				onError(error);
				return fallback.hit(key);
			}
		},
		async peek(key) {
			try {
				return Number((await redis.get(keyOf(key))) ?? 0);
			} catch (error) {
				onError(error);
				return fallback.peek(key);
			}
		},
	};
}

/**
 * A limit of `limit` per window: `allowed` while the count stays within it; `firstRefusal` for the one
 * request that crossed it (worth an audit entry; the rest of the window's refusals are not).
 */
export async function spend(counter: WindowCounter, key: string, limit: number): Promise<{ allowed: boolean; firstRefusal: boolean }> {
	const count = await counter.hit(key);
	return { allowed: count <= limit, firstRefusal: count === limit + 1 };
}

/** A counter in Directus's Redis when it uses one (instances share it), else in this process; `shared` says which. */
export async function directusCounter(namespace: string, onError: (error: unknown) => void): Promise<{ counter: WindowCounter; shared: boolean }> {
	const local = memoryCounter();
	const redis = await directusRedis<RedisLike>();
	return redis ? { counter: redisCounter(redis, namespace, local, onError), shared: true } : { counter: local, shared: false };
}
