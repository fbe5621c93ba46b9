/**
 * Group commit: items that arrive while a write is in flight share the next write, so N concurrent
 * callers cost about one write per round trip instead of N. The first item of a quiet moment is
 * written at once, alone: no caller waits for company. Each caller's promise settles with the write
 * that holds its own item — resolved once it is done, rejected when it failed — and a failed batch
 * is retried item by item, so one bad item fails only its own caller.
 */
export function groupCommit<T>(write: (items: T[]) => Promise<void>, maxBatch: number): (item: T) => Promise<void> {
	type Waiting = { item: T; resolve: () => void; reject: (error: unknown) => void };
	let queue: Waiting[] = [];
	let writing = false;

	const settle = async (batch: Waiting[]) => {
		try {
			await write(batch.map((w) => w.item));
			for (const w of batch) w.resolve();
		} catch (error) {
			if (batch.length === 1) return batch[0]!.reject(error);
			for (const w of batch) await settle([w]);
		}
	};

	const drain = async () => {
		writing = true;
		while (queue.length > 0) {
			const batch = queue.slice(0, maxBatch);
			queue = queue.slice(maxBatch);
			await settle(batch);
		}
		writing = false;
	};

	return (item) =>
		new Promise<void>((resolve, reject) => {
			queue.push({ item, resolve, reject });
			if (!writing) void drain();
		});
}
