/** Something a write needs and holds while it runs: a database connection. */
export interface Lease<L> {
	acquire: () => Promise<L>;
	release: (held: L) => void;
}

/**
 * Group commit: items that arrive while a write is in flight share the next write, so N concurrent
 * callers cost about one write per round trip instead of N. The first item of a quiet moment is
 * written at once, alone: no caller waits for company. Each caller's promise settles with the write
 * that holds its own item — resolved once it is done, rejected when it failed — and a failed batch
 * is retried item by item, so one bad item fails only its own caller.
 *
 * With a lease, the batch is taken once the lease is held, not when its write is queued: on a
 * one-connection pool (SQLite) the write waits for the connection behind the reads of the requests
 * that arrived meanwhile, and their items join it — fewer, fuller commits holding that connection.
 */
export function groupCommit<T, L = void>(write: (items: T[], held: L) => Promise<void>, maxBatch: number, lease?: Lease<L>): (item: T) => Promise<void> {
	type Waiting = { item: T; resolve: () => void; reject: (error: unknown) => void };
	let queue: Waiting[] = [];
	let writing = false;

	const settle = async (batch: Waiting[], held: L) => {
		try {
			await write(
				batch.map((w) => w.item),
				held,
			);
			for (const w of batch) w.resolve();
		} catch (error) {
			if (batch.length === 1) return batch[0]!.reject(error);
			for (const w of batch) await settle([w], held);
		}
	};

	const take = () => {
		const batch = queue.slice(0, maxBatch);
		queue = queue.slice(maxBatch);
		return batch;
	};

	const drain = async () => {
		writing = true;
		while (queue.length > 0) {
			let held: L;
			try {
				held = lease ? await lease.acquire() : (undefined as L);
			} catch (error) {
				for (const w of take()) w.reject(error);
				continue;
			}
			try {
				await settle(take(), held);
			} finally {
				lease?.release(held);
			}
		}
		writing = false;
	};

	return (item) =>
		new Promise<void>((resolve, reject) => {
			queue.push({ item, resolve, reject });
			if (!writing) void drain();
		});
}
