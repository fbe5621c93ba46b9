import type { Knex } from 'knex';
import { classifyStored, DecryptError, openStoredValue, type Keyring } from '../crypto/index.js';
import type { FailureLog } from './failures.js';
import { countRows, scanColumn, storedValue, type StoredRow, type Target } from './scan.js';

/** What reading every value of one protected field found (verify's full pass). */
export interface FieldInspection {
	field: string;
	rows: number;
	empty: number;
	byKeyId: Record<string, number>;
	legacy: number;
	earlierBinding: number;
	plaintext: number;
	undecryptable: number;
	missingKeyIds: string[];
}


export type Progress = (done: number, total: number) => void;

/** Tries to open one stored value: how it is bound, or the reason it cannot be opened. Never returns the plaintext. */
export function check(ring: Keyring, target: Target, row: StoredRow): { earlierBinding: boolean } | { failure: string } {
	try {
		return { earlierBinding: openStoredValue(ring, storedValue(target, row.text), { collection: target.collection, field: target.field, pk: row.pk }).earlierBinding };
	} catch (error) {
		return { failure: error instanceof DecryptError ? `${error.reason}: ${error.message}` : 'unexpected error' };
	}
}

/**
 * Reads every protected value once, a batch at a time: per field, rows per key id, legacy,
 * plaintext and undecryptable counts; each failing row goes to `failures`. Changes nothing.
 */
export async function inspectTargets(db: Knex, ring: Keyring, targets: Target[], failures: FailureLog, options: { batchSize?: number; onProgress?: Progress } = {}) {
	const batchSize = options.batchSize ?? 1000;
	const totals = await Promise.all(targets.map((t) => countRows(db, t)));
	const total = totals.reduce((a, b) => a + b, 0);
	let done = 0;
	const fields: FieldInspection[] = [];
	for (const target of targets) {
		const status: FieldInspection = { field: `${target.collection}.${target.field}`, rows: 0, empty: 0, byKeyId: {}, legacy: 0, earlierBinding: 0, plaintext: 0, undecryptable: 0, missingKeyIds: [] };
		for await (const batch of scanColumn(db, target, batchSize)) {
			for (const row of batch) {
				status.rows++;
				const stored = classifyStored(storedValue(target, row.text));
				if (stored.format === 'empty') {
					status.empty++;
					continue;
				}
				if (stored.format === 'plaintext') {
					status.plaintext++;
					failures.add({ collection: target.collection, field: target.field, id: row.pk, reason: 'plaintext: value is not encrypted' });
					continue;
				}
				if (stored.format === 'v2' && stored.keyId) status.byKeyId[stored.keyId] = (status.byKeyId[stored.keyId] ?? 0) + 1;
				if (stored.format === 'legacy-string' || stored.format === 'legacy-object') status.legacy++;
				if (stored.keyId && !ring.byId(stored.keyId) && !status.missingKeyIds.includes(stored.keyId)) status.missingKeyIds.push(stored.keyId);
				const result = check(ring, target, row);
				if ('failure' in result) {
					status.undecryptable++;
					failures.add({ collection: target.collection, field: target.field, id: row.pk, reason: result.failure });
				} else if (result.earlierBinding) status.earlierBinding++;
			}
			done += batch.length;
			options.onProgress?.(Math.min(done, total), total);
		}
		fields.push(status);
	}
	return fields;
}
