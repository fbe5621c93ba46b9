import type { Knex } from 'knex';
import type { Keyring } from '../crypto/index.js';
import { inspectTargets, type Progress } from './inventory.js';
import type { Target } from './scan.js';

/**
 * What `credentials status` prints and `GET /credentials/status` answers: the configured key ids
 * and, per protected field, rows per key id, legacy, plaintext and undecryptable counts.
 * `missingKeyIds` lists the key ids rows use that no configured key has: those rows fail closed.
 */
export async function keyHealth(db: Knex, ring: Keyring, targets: Target[], onProgress?: Progress) {
	const { fields } = await inspectTargets(db, ring, targets, { onProgress });
	return {
		keys: { current: ring.current.id, previous: ring.previous.map((k) => k.id) },
		fields,
		missingKeyIds: [...new Set(fields.flatMap((f) => f.missingKeyIds))],
	};
}

export type KeyHealth = Awaited<ReturnType<typeof keyHealth>>;
