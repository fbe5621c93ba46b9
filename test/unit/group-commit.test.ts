import { describe, expect, it } from 'vitest';
import { groupCommit } from '../../src/lib/group-commit.js';

/** A write that records its batches and finishes when the test says so. */
function controlledWrite(fails: (item: number) => boolean = () => false) {
	const batches: number[][] = [];
	const pending: (() => void)[] = [];
	const write = (items: number[]) =>
		new Promise<void>((resolve, reject) => {
			batches.push(items);
			pending.push(() => (items.some(fails) ? reject(new Error(`failed ${items.join(',')}`)) : resolve()));
		});
	const finishNext = async () => {
		await new Promise((r) => setImmediate(r));
		pending.shift()?.();
		await new Promise((r) => setImmediate(r));
	};
	return { write, batches, finishNext, pendingCount: () => pending.length };
}

describe('groupCommit', () => {
	it('writes the first item at once, alone, and groups those that arrive meanwhile into the next write', async () => {
		const w = controlledWrite();
		const enqueue = groupCommit(w.write, 100);
		const settled: number[] = [];
		const all = [1, 2, 3, 4].map((n) => enqueue(n).then(() => settled.push(n)));
		await new Promise((r) => setImmediate(r));
		expect(w.batches).toEqual([[1]]);
		await w.finishNext();
		expect(settled).toEqual([1]);
		expect(w.batches).toEqual([[1], [2, 3, 4]]);
		// Nobody is told "written" before the write that holds its item is done.
		expect(settled).not.toContain(2);
		await w.finishNext();
		await Promise.all(all);
		expect(settled).toEqual([1, 2, 3, 4]);
	});

	it('never puts more than maxBatch items in one write', async () => {
		const w = controlledWrite();
		const enqueue = groupCommit(w.write, 2);
		const all = [1, 2, 3, 4, 5].map((n) => enqueue(n));
		while (w.pendingCount() > 0 || w.batches.length < 3) await w.finishNext();
		await Promise.all(all);
		expect(w.batches).toEqual([[1], [2, 3], [4, 5]]);
	});

	it('a failed batch is retried item by item: only the failing item’s caller is refused', async () => {
		const w = controlledWrite((n) => n === 3);
		const enqueue = groupCommit(w.write, 100);
		const outcomes = [1, 2, 3, 4].map((n) =>
			enqueue(n).then(
				() => 'written',
				(e: Error) => e.message,
			),
		);
		for (let i = 0; i < 6; i++) await w.finishNext();
		expect(await Promise.all(outcomes)).toEqual(['written', 'written', 'failed 3', 'written']);
		expect(w.batches).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
	});

	it('keeps working after a failure', async () => {
		const w = controlledWrite((n) => n === 1);
		const enqueue = groupCommit(w.write, 100);
		const first = enqueue(1).catch((e: Error) => e.message);
		await w.finishNext();
		expect(await first).toBe('failed 1');
		const second = enqueue(2);
		await w.finishNext();
		await expect(second).resolves.toBeUndefined();
	});
});

describe('groupCommit with a lease', () => {
	/** A lease (one connection) the test hands out when it says so. */
	function controlledLease(fails = false) {
		const waiting: (() => void)[] = [];
		let held = 0;
		let released = 0;
		const lease = {
			acquire: () =>
				new Promise<string>((resolve, reject) => {
					waiting.push(() => (fails ? reject(new Error('no connection')) : resolve(`connection ${++held}`)));
				}),
			release: () => void released++,
		};
		const grant = async () => {
			await new Promise((r) => setImmediate(r));
			waiting.shift()?.();
			await new Promise((r) => setImmediate(r));
		};
		return { lease, grant, counts: () => ({ held, released }) };
	}

	it('takes the batch once the lease is held: items that arrive while it waits join that write', async () => {
		const w = controlledWrite();
		const l = controlledLease();
		const seen: string[] = [];
		const enqueue = groupCommit<number, string>((items, held) => (seen.push(held), w.write(items)), 100, l.lease);
		const all = [enqueue(1)];
		await new Promise((r) => setImmediate(r));
		// Still waiting for the connection: what arrives now is part of the first write.
		all.push(enqueue(2), enqueue(3));
		expect(w.batches).toEqual([]);
		await l.grant();
		expect(w.batches).toEqual([[1, 2, 3]]);
		await w.finishNext();
		await Promise.all(all);
		expect(seen).toEqual(['connection 1']);
		expect(l.counts()).toEqual({ held: 1, released: 1 });
	});

	it('releases the lease when the write fails, and retries the items one by one on the same lease', async () => {
		const w = controlledWrite((n) => n === 2);
		const l = controlledLease();
		const enqueue = groupCommit<number, string>((items) => w.write(items), 100, l.lease);
		const outcomes = [enqueue(1), enqueue(2)].map((p) => p.then(() => 'written', (e: Error) => e.message));
		await l.grant();
		for (let i = 0; i < 3; i++) await w.finishNext();
		expect(await Promise.all(outcomes)).toEqual(['written', 'failed 2']);
		expect(w.batches).toEqual([[1, 2], [1], [2]]);
		expect(l.counts()).toEqual({ held: 1, released: 1 });
	});

	it('a lease that cannot be had fails the batch that waited for it, and the next items try again', async () => {
		const failing = controlledLease(true);
		const w = controlledWrite();
		const enqueue = groupCommit<number, string>((items) => w.write(items), 100, failing.lease);
		const first = enqueue(1).catch((e: Error) => e.message);
		await failing.grant();
		expect(await first).toBe('no connection');
		expect(w.batches).toEqual([]);
		const second = enqueue(2).catch((e: Error) => e.message);
		await failing.grant();
		expect(await second).toBe('no connection');
		expect(failing.counts()).toEqual({ held: 0, released: 0 });
	});
});
