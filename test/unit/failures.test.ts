import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failureLog, MAX_LISTED } from '../../src/lifecycle/failures.js';

const failure = (i: number) => ({ collection: 'c', field: 'f', id: i, reason: 'authentication-failed: x' });

describe('failureLog', () => {
	it('holds the first MAX_LISTED, counts every one, and writes every one to the file', () => {
		const dir = mkdtempSync(join(tmpdir(), 'failures-'));
		try {
			const file = join(dir, 'failures.jsonl');
			const log = failureLog(file);
			for (let i = 0; i < MAX_LISTED + 250; i++) log.add(failure(i));
			log.close();
			expect(log.count).toBe(MAX_LISTED + 250);
			expect(log.listed).toHaveLength(MAX_LISTED);
			expect(log.listed.at(-1)!.id).toBe(MAX_LISTED - 1);
			const lines = readFileSync(file, 'utf8').trim().split('\n');
			expect(lines).toHaveLength(MAX_LISTED + 250);
			expect(JSON.parse(lines.at(-1)!)).toEqual(failure(MAX_LISTED + 249));
			expect(statSync(file).mode & 0o077).toBe(0); // the owner's alone
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('without a file, still counts past what it holds', () => {
		const log = failureLog();
		for (let i = 0; i < MAX_LISTED + 1; i++) log.add(failure(i));
		log.close();
		expect([log.count, log.listed.length]).toEqual([MAX_LISTED + 1, MAX_LISTED]);
	});
});
