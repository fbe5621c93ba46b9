import type { Query, SchemaOverview } from '@directus/types';
import { isSealed } from '../../crypto/index.js';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { MASK } from '../../lib/mask.js';
import { isRecord, rowRelation } from './schema-paths.js';

export { MASK };

type Row = Record<string, unknown>;

/** What a read asked for, as far as masking needs it: the schema, and the query's aliases and aggregates. */
export interface ReadShape {
	schema?: SchemaOverview | null;
	query?: Query | null;
}

/**
 * Replaces protected values with the mask, by the field's identity rather than the value's look:
 * a protected field is masked whatever it holds (plaintext not yet encrypted included), under
 * any alias, at any depth of related rows (followed by schema), inside aggregates, and inside the
 * data and deltas of revisions and content versions (which belong to the collection they name).
 * Where a value's field cannot be known — a JSON value, a relation whose target the row does not
 * say — anything that is ciphertext, and any field named like a protected one, is masked.
 * Null stays null, so "not set" remains visible.
 */
export function maskRows(fields: ProtectedFields, collection: string, rows: unknown, shape: ReadShape = {}): unknown {
	new Masker(fields, shape.schema ?? null).rows(rows, collection, shape.query ?? null, 0);
	return rows;
}

/** Past this depth a subtree is replaced by the mask: failing closed beats recursing without end. */
const MAX_DEPTH = 64;
/** Directus's activity log of drafts and item changes keeps whole payloads of the collection it names. */
const PAYLOAD_FIELDS: Record<string, readonly string[]> = { directus_revisions: ['data', 'delta'], directus_versions: ['delta'] };

type Level = Pick<Query, 'alias' | 'aggregate' | 'deep'> | null;

class Masker {
	constructor(
		private readonly fields: ProtectedFields,
		private readonly schema: SchemaOverview | null,
	) {}

	/** Rows of a known collection (one row, a list, or related ids). */
	rows(value: unknown, collection: string, level: Level, depth: number): void {
		for (const row of Array.isArray(value) ? value : [value]) if (isRecord(row)) this.row(row, collection, level, depth);
	}

	private row(row: Row, collection: string, level: Level, depth: number): void {
		const own = this.fields.of(collection);
		const aliases = isRecord(level?.alias) ? level.alias : {};
		const aggregates = isRecord(level?.aggregate) ? level.aggregate : {};
		const deep = isRecord(level?.deep) ? level.deep : {};
		for (const [key, value] of Object.entries(row)) {
			if (value === null || value === undefined) continue;
			if (depth > MAX_DEPTH) {
				row[key] = MASK;
				continue;
			}
			const name = typeof aliases[key] === 'string' ? (aliases[key] as string) : key;
			if (own.includes(name)) row[key] = MASK;
			else if (key in aggregates && isRecord(value)) this.aggregate(value, own);
			else if (PAYLOAD_FIELDS[collection]?.includes(name)) this.payload(value, row['collection'], depth + 1);
			else if (key === '$meta' && isRecord(value) && isRecord(value['delta'])) this.rows(value['delta'], collection, null, depth + 1);
			else if (typeof value === 'object') {
				const relation = this.schema ? rowRelation(this.schema.relations, collection, name, row) : null;
				const target = relation?.target && this.schema!.collections[relation.target] ? relation.target : null;
				if (target) this.rows(value, target, isRecord(deep[key]) ? { alias: deep[key]['_alias'] as Query['alias'], deep: deep[key] as Query['deep'] } : null, depth + 1);
				// A relation whose rows this one does not name (a many-to-any target it leaves out) holds rows all the same.
				else this.unknown(value, depth + 1, relation !== null);
			} else if (isSealed(value)) row[key] = MASK;
		}
	}

	/** `{ max: { secret: … } }`: the query guard refuses aggregates over protected fields; this is the second lock. */
	private aggregate(result: Row, own: readonly string[]): void {
		for (const field of Object.keys(result)) if (own.includes(field) && result[field] !== null) result[field] = MASK;
	}

	/** A revision's or draft's payload: rows of the collection it names, else of any collection. */
	private payload(value: unknown, collection: unknown, depth: number): void {
		if (typeof collection === 'string' && this.schema?.collections[collection]) this.rows(value, collection, null, depth);
		else this.unknown(value, depth, true);
	}

	/**
	 * A value whose fields cannot be told apart by schema. Rows of an unknown collection (a
	 * many-to-any target the row does not name, a payload of a collection gone from the schema)
	 * are masked by name and by look; the value of a JSON field by look only, since its keys are
	 * not fields (a flow operation's payload template must stay readable and savable).
	 */
	private unknown(node: unknown, depth: number, rowsOfUnknownCollection: boolean): void {
		if (!node || typeof node !== 'object') return;
		const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
		for (const [key, value] of entries) {
			if (value === null || value === undefined) continue;
			const byName = rowsOfUnknownCollection && typeof key === 'string' && this.fields.names().has(key);
			if (byName || depth > MAX_DEPTH || isSealed(value)) (node as Record<string | number, unknown>)[key] = MASK;
			else if (typeof value === 'object') this.unknown(value, depth + 1, rowsOfUnknownCollection);
		}
	}
}
