import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { heapKeeper } from '../../src/hook/cli/heap.js';

const MiB = 1024 * 1024;
const used = () => getHeapStatistics().used_heap_size;
/** ~100 KB on V8's heap: an array of doubles (strings of repeated characters may be shared or lazy). */
const block = (i: number) => Array.from({ length: 13_000 }, (_, j) => i + j + 0.5);

describe('heapKeeper', () => {
	it('runs a full collection once the heap has grown by its slack', () => {
		const keep = heapKeeper(8 * MiB);
		// 20 MiB, dropped just before the call: only a collection can give them back.
		let garbage: number[][] = Array.from({ length: 200 }, (_, i) => block(i));
		expect(used()).toBeGreaterThan(20 * MiB);
		garbage = [];
		const before = used();
		keep();
		expect(used()).toBeLessThan(before - 15 * MiB);
		expect(garbage).toHaveLength(0);
	});
});
