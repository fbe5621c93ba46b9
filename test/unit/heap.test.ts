import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { heapKeeper } from '../../src/hook/cli/heap.js';

const MiB = 1024 * 1024;
const used = () => getHeapStatistics().used_heap_size;
/** ~100 KB on V8's heap: an array of doubles (strings of repeated characters may be shared or lazy). */
const block = (i: number) => Array.from({ length: 13_000 }, (_, j) => i + j + 0.5);

describe('heapKeeper', () => {
	it('runs a full collection once the heap has grown by its slack', () => {
		// Start from a collected heap, so that what the keeper sees grow is this test's own garbage.
		setFlagsFromString('--expose-gc');
		(runInNewContext('gc') as () => void)();
		const start = used();
		const keep = heapKeeper(8 * MiB);
		let garbage: number[][] = Array.from({ length: 200 }, (_, i) => block(i));
		expect(used() - start).toBeGreaterThan(18 * MiB);
		// Dropped just before the call: only a collection gives it back.
		garbage = [];
		const before = used();
		keep();
		expect(used()).toBeLessThan(before - 15 * MiB);
		expect(garbage).toHaveLength(0);
	});
});
