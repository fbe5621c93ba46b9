import type { Relation, SchemaOverview } from '@directus/types';

/** How query paths name fields: `year(date_created)` → `date_created`; `item:collection` (many-to-any) → `item`. */
export const fieldName = (key: string) => (key.match(/^\w+\((.+)\)$/)?.[1] ?? key).split(':')[0]!;

/** Where a relational field of `collection` leads (many-to-one, one-to-many, or a named many-to-any target), or null. */
export function relatedCollection(schema: SchemaOverview, collection: string, key: string): string | null {
	const field = fieldName(key);
	const anyTarget = key.includes(':') ? key.split(':')[1]! : null;
	for (const relation of schema.relations) {
		if (relation.collection === collection && relation.field === field) return relation.related_collection ?? anyTarget;
		if (relation.related_collection === collection && relation.meta?.one_field === field) return relation.collection;
	}
	return null;
}

/**
 * Where a field read as `key` leads, as the keys `deep` addresses: one [key, collection] for most
 * relations; for a many-to-any field read without a collection (`item.*`), one
 * [`item:<collection>`, collection] per collection it may point at — Directus reads each with the
 * query in `deep["item:<collection>"]`.
 */
export function fieldTargets(schema: SchemaOverview, collection: string, key: string, named = key): [string, string][] {
	if (!named.includes(':')) {
		const anyRelation = schema.relations.find((r) => r.collection === collection && r.field === fieldName(named) && !r.related_collection);
		const allowed = anyRelation?.meta?.one_allowed_collections;
		if (Array.isArray(allowed)) return allowed.map((target) => [`${key}:${target}`, target]);
	}
	const target = relatedCollection(schema, collection, named);
	return target ? [[key, target]] : [];
}

/** Every relational field of a collection (what `*` stands for in a nested path) and where it leads. */
export function relationalFields(schema: SchemaOverview, collection: string): [string, string][] {
	const out: [string, string][] = [];
	for (const relation of schema.relations) {
		if (relation.collection === collection && relation.related_collection) out.push([relation.field, relation.related_collection]);
		if (relation.collection === collection && !relation.related_collection) out.push(...fieldTargets(schema, collection, relation.field));
		if (relation.related_collection === collection && relation.meta?.one_field) out.push([relation.meta.one_field, relation.collection]);
	}
	return out;
}

/**
 * The relational paths a `fields` list reads, each with the collection it reaches: `sessions.id`
 * → [["sessions"], platform_sessions]; `*.*` → every relational field one level down. Paths use
 * the keys as written, which is how `deep` addresses them; aliases (`alias`, and `_alias` inside
 * `deep` for the levels below) are resolved to the fields they name.
 */
export function nestedReads(schema: SchemaOverview, collection: string, fields: readonly string[], alias: unknown, deep: unknown): { path: string[]; collection: string }[] {
	const byHead = new Map<string, string[]>();
	for (const field of fields) {
		if (typeof field !== 'string') continue;
		const dot = field.indexOf('.');
		if (dot < 0) continue;
		const head = field.slice(0, dot);
		byHead.set(head, [...(byHead.get(head) ?? []), field.slice(dot + 1)]);
	}
	const aliases = isRecord(alias) ? alias : {};
	const reads: { path: string[]; collection: string }[] = [];
	for (const [head, rest] of byHead) {
		const named = typeof aliases[head] === 'string' ? (aliases[head] as string) : head;
		const targets = head === '*' ? relationalFields(schema, collection) : fieldTargets(schema, collection, head, named);
		for (const [key, target] of targets) {
			if (!target || !schema.collections[target]) continue;
			reads.push({ path: [key], collection: target });
			const below = isRecord(deep) && isRecord(deep[key]) ? deep[key] : {};
			for (const inner of nestedReads(schema, target, rest, below['_alias'], below)) reads.push({ path: [key, ...inner.path], collection: inner.collection });
		}
	}
	return reads;
}

/**
 * The relation a field of a row (or of a draft's item) follows, as Directus's getRelationInfo:
 * null when the field is no relation; otherwise the collection it leads to — m2o, o2m, or for a
 * many-to-any the collection the row names in its collection field (null when it names none).
 */
export function rowRelation(relations: readonly Relation[], collection: string, field: string, row: Record<string, unknown>): { target: string | null } | null {
	for (const relation of relations) {
		if (relation.collection === collection && relation.field === field) {
			if (relation.related_collection) return { target: relation.related_collection };
			const anyField = relation.meta?.one_collection_field;
			return { target: anyField && typeof row[anyField] === 'string' ? (row[anyField] as string) : null };
		}
		if (relation.related_collection === collection && relation.meta?.one_field === field) return { target: relation.collection };
	}
	return null;
}

/** A plain object (a filter level, a deep level, an alias map), not an array or a value. */
export const isRecord = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);
