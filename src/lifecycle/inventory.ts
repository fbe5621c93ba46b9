import type { Knex } from 'knex';
import { classifyStored, DecryptError, openStoredValueAsync, type Keyring } from '../crypto/index.js';
import type { FailureLog } from './failures.js';
import { directusSecretFor } from '../schema/protected-fields.js';
import { BATCH_BYTES, countRows, scanColumn, storedValue, type StoredRow, type Target } from './scan.js';

/**
 * What opening every value of one protected field found (verify's full pass). Counts by key id,
 * legacy and plaintext are the census's (SQL, no decryption); this adds what only opening tells.
 */
export interface FieldInspection {
	field: string;
	rows: number;
	empty: number;
	earlierBinding: number;
	undecryptable: number;
}

export type Progress = (done: number, total: number) => void;

/**
 * Tries to open one stored value: how it is bound, or the reason it cannot be opened. Never returns the
 * plaintext. A value of Directus's encrypt special is opened with `secret` (directusSecretFor's answer for the target).
 */
export async function check(ring: Keyring, target: Target, row: StoredRow, secret: string | null = null): Promise<{ earlierBinding: boolean } | { failure: string }> {
	try {
		const ctx = { collection: target.collection, field: target.field, pk: row.pk };
		return { earlierBinding: (await openStoredValueAsync(ring, storedValue(target, row.text), ctx, secret)).earlierBinding };
	} catch (error) {
		return { failure: error instanceof DecryptError ? `${error.reason}: ${error.message}` : 'unexpected error' };
	}
}

/**
 * Opens every protected value once, a batch at a time: per field, how many are undecryptable and how
 * many are bound to an earlier spelling of their row's key; each failing row (plaintext included)
 * goes to `failures`. Changes nothing.
 */
export async function inspectTargets(
	db: Knex,
	ring: Keyring,
	targets: Target[],
	failures: FailureLog,
	options: { batchSize?: number; onProgress?: Progress; directusSecret?: string | null } = {},
) {
	const limit = { rows: options.batchSize ?? 1000, bytes: BATCH_BYTES };
	const totals = await Promise.all(targets.map((t) => countRows(db, t)));
	const total = totals.reduce((a, b) => a + b, 0);
	let done = 0;
	const fields: FieldInspection[] = [];
	for (const target of targets) {
		const status: FieldInspection = { field: `${target.collection}.${target.field}`, rows: 0, empty: 0, earlierBinding: 0, undecryptable: 0 };
		const secret = directusSecretFor(target, options.directusSecret ?? null);
		const fail = (id: string | number, reason: string) => failures.add({ collection: target.collection, field: target.field, id, reason });
		for await (const batch of scanColumn(db, target, limit)) {
			for (const row of batch) {
				status.rows++;
				const format = classifyStored(storedValue(target, row.text)).format;
				if (format === 'empty') status.empty++;
				else if (format === 'plaintext') fail(row.pk, 'plaintext: value is not encrypted');
				else {
					const result = await check(ring, target, row, secret);
					if ('failure' in result) {
						status.undecryptable++;
						fail(row.pk, result.failure);
					} else if (result.earlierBinding) status.earlierBinding++;
				}
			}
			done += batch.length;
			options.onProgress?.(Math.min(done, total), total);
		}
		fields.push(status);
	}
	return fields;
}
