import type { SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import { keySpellings } from '../crypto/index.js';
import type { PrimaryKey } from './codec.js';

/**
 * The reads protecting a write needs of rows as stored — nothing else of the database. Behind an
 * interface so that the decisions built on them can be tried without one.
 */
export interface RowState {
	/** Some stored columns of one row (ciphertext as it is), or undefined when there is no such row. */
	values(collection: string, pk: PrimaryKey, fields: string[]): Promise<Record<string, unknown> | undefined>;
	/** Whether a row exists whose key differs from this UUID key only in case. */
	hasCaseVariant(collection: string, field: string, key: string): Promise<boolean>;
}

export function knexRowState(db: Knex, schema: SchemaOverview | null): RowState {
	return {
		values: (collection, pk, fields) => db(collection).select(fields).where(schema?.collections[collection]?.primary ?? 'id', pk).first(),
		async hasCaseVariant(collection, field, key) {
			const variants = keySpellings(key).filter((spelling) => spelling !== key);
			const existing = await db(collection).select(field).whereIn(field, variants).first();
			return !!existing && String(existing[field]) !== key;
		},
	};
}
