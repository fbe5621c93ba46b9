import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps a long walk's heap near what it actually holds. V8 collects lazily and grows its limit with
 * the garbage it sees: left alone, rotating 2 GB of 100 KB values peaked at ~500 MiB above the
 * command's idle RSS, and 1M small rows at ~330 MiB, though each batch holds only a few MiB.
 * Called once a batch; when the heap has grown by `slack` since the last full collection, it runs
 * one (a few dozen ms, every 48 MiB of garbage: about a second and a half per 2 GB walked).
 */
export function heapKeeper(slack = 48 * 1024 * 1024): () => void {
	const collect = fullCollection();
	if (!collect) return () => undefined;
	const used = () => {
		const stats = getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { external_memory?: number };
		return stats.used_heap_size + (stats.external_memory ?? 0);
	};
	let base = used();
	return () => {
		if (used() - base < slack) return;
		collect();
		base = used();
	};
}

/** V8's full collection: `gc` when node runs with --expose-gc, else exposed for this process (the CLI's own, short-lived). */
function fullCollection(): (() => void) | undefined {
	const exposed = (globalThis as { gc?: () => void }).gc;
	if (exposed) return exposed;
	try {
		setFlagsFromString('--expose-gc');
		return runInNewContext('gc') as () => void;
	} catch {
		return undefined;
	}
}
