import type { Knex } from 'knex';
import type { Keyring } from '../crypto/index.js';
import type { FieldHealth } from '../contracts/studio.js';
import { censusOf } from './census.js';
import type { Progress } from './inventory.js';
import type { Target } from './scan.js';
import { lastVerifications } from './verifications.js';

/**
 * What `credentials status` prints and `GET /credentials/status` answers: the configured key ids
 * and, per protected field, rows per key id, legacy and plaintext counts — counted in SQL without
 * decrypting anything, so it costs one grouped read per field whatever the rows (the fields read at once) — and, from the last
 * `verify`, how many values no configured key opens and when that was found (null: never verified).
 * `missingKeyIds` lists the key ids rows use that no configured key has: those rows fail closed.
 */
export async function keyHealth(db: Knex, ring: Keyring, targets: Target[], onProgress?: Progress) {
	const verified = await lastVerifications(db);
	// Each field is its own read: a large table's does not wait for the small ones' (nor they for it).
	let done = 0;
	const fields: FieldHealth[] = await Promise.all(
		targets.map(async (target) => {
			const name = `${target.collection}.${target.field}`;
			const census = await censusOf(db, target);
			const last = verified.get(name);
			onProgress?.(++done, targets.length);
			return {
				field: name,
				...census,
				earlierBinding: last?.earlierBinding ?? null,
				undecryptable: last?.undecryptable ?? null,
				verifiedAt: last?.verifiedAt ?? null,
				missingKeyIds: Object.keys(census.byKeyId).filter((id) => !ring.byId(id)),
			};
		}),
	);
	return {
		keys: { current: ring.current.id, previous: ring.previous.map((k) => k.id) },
		fields,
		missingKeyIds: [...new Set(fields.flatMap((f) => f.missingKeyIds))],
	};
}

export type KeyHealth = Awaited<ReturnType<typeof keyHealth>>;
