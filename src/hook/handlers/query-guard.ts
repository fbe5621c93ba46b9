import { InvalidQueryError } from '@directus/errors';
import type { Accountability, Query, SchemaOverview } from '@directus/types';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { scopeQuery } from './owner-guard.js';
import { fieldName, isRecord, relatedCollection } from './schema-paths.js';

/**
 * A query that filters, sorts, groups, aggregates or searches on a protected field can only ever
 * be an oracle: `_starts_with` one character at a time reads an envelope (or a plaintext not yet
 * encrypted) through counts alone. Search covers every searchable text field, so `setup` marks
 * protected fields unsearchable (Directus's own `searchable` flag) and a search is refused while
 * one still is. Such queries are refused with 400 for every caller with
 * accountability, admins included — reads show them the mask, so the query must not show more.
 * Fields are resolved by identity through relations (`creator_profile_id.encrypted_credentials`,
 * `deep[…][_filter]`, o2m aliases), not by name alone. Internal calls (accountability null) pass.
 */

type Filter = Record<string, unknown>;
type Aliases = Record<string, unknown>;
/** `alias[x]=encrypted_credentials` makes `x` name that field wherever the query uses it. */
const resolve = (key: string, aliases?: Aliases) => (aliases && typeof aliases[fieldName(key)] === 'string' ? (aliases[fieldName(key)] as string) : key);

class ProtectedQueryCheck {
	constructor(
		private readonly fields: ProtectedFields,
		private readonly schema: SchemaOverview,
	) {}

	field(collection: string, key: string, use: string, aliases?: Aliases): void {
		const field = fieldName(resolve(key, aliases));
		if (this.fields.has(collection, field)) {
			throw new InvalidQueryError({ reason: `${collection}.${field} is a protected field: it cannot be used to ${use}` });
		}
	}

	/** A dotted path (`creator_profile_id.encrypted_credentials`), each step checked in its own collection; aliases name the first. */
	path(collection: string, path: string, use: string, aliases?: Aliases): void {
		let current: string | null = collection;
		let level = aliases;
		for (const step of path.replace(/^-/, '').split('.')) {
			if (!current) return;
			this.field(current, step, use, level);
			current = relatedCollection(this.schema, current, resolve(step, level));
			level = undefined;
		}
	}

	filter(collection: string, filter: unknown, aliases?: Aliases): void {
		if (!filter || typeof filter !== 'object') return;
		if (Array.isArray(filter)) return filter.forEach((f) => this.filter(collection, f, aliases));
		for (const [key, value] of Object.entries(filter as Filter)) {
			if (key === '_and' || key === '_or' || key === '_some' || key === '_none') {
				this.filter(collection, value, key === '_and' || key === '_or' ? aliases : undefined);
				continue;
			}
			if (key.startsWith('_')) continue; // an operator: its value is a value, not a field
			this.field(collection, key, 'filter', aliases);
			const next = relatedCollection(this.schema, collection, resolve(key, aliases));
			if (next) this.filter(next, value);
		}
	}

	deep(collection: string, deep: unknown): void {
		if (!isRecord(deep)) return;
		const aliases = isRecord(deep['_alias']) ? deep['_alias'] : undefined;
		for (const [key, value] of Object.entries(deep)) {
			if (key === '_filter') this.filter(collection, value, aliases);
			else if (key === '_sort') this.list(collection, value, 'sort', aliases);
			else if (key === '_group') this.list(collection, value, 'group', aliases);
			else if (key === '_aggregate') this.aggregate(collection, value, aliases);
			else if (key === '_search') this.search(collection, value);
			else if (!key.startsWith('_')) {
				const next = relatedCollection(this.schema, collection, key);
				if (next) this.deep(next, value);
			}
		}
	}

	list(collection: string, value: unknown, use: string, aliases?: Aliases): void {
		const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
		for (const item of items) if (typeof item === 'string') this.path(collection, item, use, aliases);
	}

	search(collection: string, search: unknown): void {
		if (search === undefined || search === null || search === '') return;
		const fields = this.schema.collections[collection]?.fields ?? {};
		const searchable = this.fields.of(collection).find((field) => fields[field] && fields[field].searchable !== false);
		if (searchable) {
			throw new InvalidQueryError({ reason: `${collection}.${searchable} is a protected field and still searchable: run \`directus credentials setup\`, which marks it unsearchable` });
		}
	}

	aggregate(collection: string, aggregate: unknown, aliases?: Aliases): void {
		if (!aggregate || typeof aggregate !== 'object') return;
		for (const targets of Object.values(aggregate as Record<string, unknown>)) {
			for (const target of Array.isArray(targets) ? targets : [targets]) {
				if (typeof target === 'string' && target !== '*') this.path(collection, target, 'aggregate', aliases);
			}
		}
	}
}

export function refuseProtectedFieldQuery(fields: ProtectedFields, schema: SchemaOverview | null, collection: string, query: Query, accountability: Accountability | null): void {
	if (!accountability || !schema || !query) return;
	const check = new ProtectedQueryCheck(fields, schema);
	const aliases = isRecord(query.alias) ? query.alias : undefined;
	check.filter(collection, query.filter, aliases);
	check.list(collection, query.sort, 'sort', aliases);
	check.list(collection, query.group, 'group', aliases);
	check.aggregate(collection, query.aggregate, aliases);
	check.deep(collection, query.deep);
	check.search(collection, query.search);
}

/**
 * Every query a caller runs against the data, at each seam where Directus reads it: the protected
 * field check, then the owner scope.
 */
export function guardQuery(fields: ProtectedFields, query: Query, collection: string, context: { schema: SchemaOverview | null; accountability: Accountability | null }): Query {
	refuseProtectedFieldQuery(fields, context.schema, collection, query, context.accountability);
	return scopeQuery(query, collection, context.accountability, context.schema);
}
