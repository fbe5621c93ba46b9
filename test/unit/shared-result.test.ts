import { describe, expect, it } from 'vitest';
import { sharedFor } from '../../src/lib/shared-result.js';

describe('sharedFor', () => {
	const setup = () => {
		let clock = 0;
		let runs = 0;
		let fail = false;
		const shared = sharedFor(
			2000,
			async (label: string) => {
				runs++;
				if (fail) throw new Error('boom');
				return `${label}#${runs}`;
			},
			() => clock,
		);
		return { shared, tick: (ms: number) => (clock += ms), runs: () => runs, failNext: (f: boolean) => (fail = f) };
	};

	it('gives callers within the window the run already started, and starts a new one after it', async () => {
		const { shared, tick, runs } = setup();
		const [a, b] = await Promise.all([shared('x'), shared('y')]);
		expect([a, b]).toEqual(['x#1', 'x#1']);
		tick(1999);
		expect(await shared('z')).toBe('x#1');
		tick(1);
		expect(await shared('z')).toBe('z#2');
		expect(runs()).toBe(2);
	});

	it('does not share a failed run', async () => {
		const { shared, failNext, runs } = setup();
		failNext(true);
		await expect(shared('x')).rejects.toThrow('boom');
		failNext(false);
		expect(await shared('y')).toBe('y#2');
		expect(runs()).toBe(2);
	});
});
