import { ForbiddenError, InvalidQueryError } from '@directus/errors';
import type { Accountability, Query, SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import { OWNED, type Owned } from '../../schema/ownership.js';
import { isRecord, nestedReads, relatedCollection } from './schema-paths.js';

/**
 * Row ownership for the extension's collections: a non-admin caller sees and changes only the
 * rows whose owner field is their user id, and may only point a row at a connection they own.
 * It runs inside Directus's own write and read paths (items.query / create / update / delete),
 * so /items, GraphQL, the Data Studio and the routes' ItemsService calls all get the same rule.
 * Internal calls (accountability null) and admins pass.
 */
type PrimaryKey = string | number;
interface GuardContext {
	database: Knex;
	schema: SchemaOverview | null;
	accountability: Accountability | null;
}

/** The user whose rows the caller is limited to; undefined when no limit applies. */
function limitedTo(collection: string, accountability: Accountability | null): { owned: Owned; user: string | null } | undefined {
	const owned = OWNED.get(collection);
	if (!owned || !accountability || accountability.admin) return undefined;
	return { owned, user: accountability.user ?? null };
}

/** The caller's own rows; no user (public) gets a filter that matches no row, rather than "owner is null". */
const ownRows = (owned: Owned, user: string | null) => (user ? { [owned.ownerField]: { _eq: user } } : { [owned.ownerField]: { _in: [] } });
const both = (a: unknown, b: Record<string, unknown>) => (a ? { _and: [a, b] } : b);

/**
 * Limits a query to the caller's rows: the collection read, and every owned collection it reads
 * through a relation at any depth (`fields=sessions.*`, `*.*.*`), by adding the owner filter to
 * that path's `deep[…][_filter]` — Directus applies it to the nested rows of that path only.
 */
export function scopeQuery(query: Query, collection: string, accountability: Accountability | null, schema: SchemaOverview | null = null): Query {
	if (!accountability || accountability.admin) return query;
	const user = accountability.user ?? null;
	const owned = OWNED.get(collection);
	const filter = (schema && query.filter ? scopeNestedFilter(schema, collection, query.filter, user) : query.filter) as Query['filter'];
	let scoped: Query = owned ? { ...query, filter: both(filter, ownRows(owned, user)) as Query['filter'] } : filter === query.filter ? query : { ...query, filter };
	const nested = schema && Array.isArray(query.fields) ? nestedReads(schema, collection, query.fields, query.alias, query.deep).filter((read) => OWNED.has(read.collection)) : [];
	if (nested.length > 0) {
		const deep = structuredClone(query.deep ?? {}) as Record<string, any>;
		for (const read of nested) {
			let level = deep;
			for (const key of read.path) level = level[key] && typeof level[key] === 'object' ? level[key] : (level[key] = {});
			const inner = level['_filter'] ? scopeNestedFilter(schema!, read.collection, level['_filter'], user) : undefined;
			level['_filter'] = both(inner, ownRows(OWNED.get(read.collection)!, user));
		}
		scoped = { ...scoped, deep };
	}
	return scoped;
}

const LOGICAL = ['_and', '_or'];
const isOperatorOnly = (value: Record<string, unknown>) => Object.keys(value).every((k) => k.startsWith('_') && !LOGICAL.includes(k) && k !== '_some' && k !== '_none');
const allOf = (conditions: unknown[]) => (conditions.length === 1 ? conditions[0] : { _and: conditions });

/** Whether a filter on `collection` reaches an owned collection through any relation. */
function touchesOwned(schema: SchemaOverview, collection: string, filter: unknown): boolean {
	if (Array.isArray(filter)) return filter.some((f) => touchesOwned(schema, collection, f));
	if (!isRecord(filter)) return false;
	return Object.entries(filter).some(([key, value]) => {
		if (key.startsWith('_')) return touchesOwned(schema, collection, value);
		const target = relatedCollection(schema, collection, key);
		return !!target && (OWNED.has(target) || touchesOwned(schema, target, value));
	});
}

/**
 * A filter that crosses a many-to-one relation into an owned collection
 * (`creator_profile_id: { platform_username: … }`) matches only the caller's rows on the far
 * side: the owner condition is added beside it on the same path, which Directus joins to the same
 * row. (Directus ignores `_and`/`_or` nested inside a relation, so the condition cannot go inside.)
 * Through a one-to-many relation (`sessions: { _some: … }`) Directus evaluates the nested filter
 * in a subquery that no condition can be tied into; such a filter that reaches an owned collection
 * is refused for non-admins rather than left as an oracle on other owners' rows.
 */
function scopeNestedFilter(schema: SchemaOverview, collection: string, filter: unknown, user: string | null): unknown {
	if (Array.isArray(filter)) return filter.map((f) => scopeNestedFilter(schema, collection, f, user));
	if (!isRecord(filter)) return filter;
	return allOf(pathConditions(schema, collection, filter, user));
}

function pathConditions(schema: SchemaOverview, collection: string, filter: Record<string, unknown>, user: string | null): unknown[] {
	const conditions: unknown[] = [];
	for (const [key, value] of Object.entries(filter)) {
		if (LOGICAL.includes(key)) {
			conditions.push({ [key]: scopeNestedFilter(schema, collection, value, user) });
			continue;
		}
		const target = key.startsWith('_') ? null : relatedCollection(schema, collection, key);
		if (!target || !isRecord(value) || isOperatorOnly(value)) {
			conditions.push({ [key]: value });
			continue;
		}
		const manyToOne = schema.relations.some((r) => r.collection === collection && r.field === key.split(':')[0] && r.related_collection === target);
		if (!manyToOne) {
			if (OWNED.has(target) || touchesOwned(schema, target, value)) {
				throw new InvalidQueryError({ reason: `filtering through the one-to-many field "${key}" into rows with owners is not supported; filter ${target} directly` });
			}
			conditions.push({ [key]: value });
			continue;
		}
		for (const inner of pathConditions(schema, target, value, user)) conditions.push({ [key]: inner });
		const owned = OWNED.get(target);
		if (owned) conditions.push({ [key]: ownRows(owned, user) });
	}
	return conditions;
}

/** Every key names a row of `collection` that `user` owns; otherwise 403 (with `reason`, where the channel has one). */
export async function assertOwned(database: Knex, schema: SchemaOverview | null, collection: string, keys: PrimaryKey[], user: string | null, reason?: string) {
	if (keys.length === 0) return;
	const refuse = () => new ForbiddenError(reason ? { reason } : undefined);
	if (!user) throw refuse();
	const owned = OWNED.get(collection)!;
	const pk = schema?.collections[collection]?.primary ?? 'id';
	const unique = [...new Set(keys.map(String))];
	const rows = await database(collection).select(pk).whereIn(pk, unique).andWhere(owned.ownerField, user);
	// Missing and foreign rows look the same: Directus answers 403 for both.
	if (rows.length !== unique.length) throw refuse();
}

async function assertPayload(ctx: GuardContext, collection: string, payload: Record<string, unknown>, user: string | null, action: 'create' | 'update') {
	const owned = OWNED.get(collection)!;
	// Rows cannot be handed over; sending the current owner back unchanged is harmless.
	if (action === 'update' && owned.ownerField in payload && payload[owned.ownerField] !== user) throw new ForbiddenError();
	for (const parent of owned.parents) {
		const ref = payload[parent.field];
		if (ref === undefined || ref === null) continue;
		if (typeof ref !== 'string' && typeof ref !== 'number') throw new ForbiddenError();
		await assertOwned(ctx.database, ctx.schema, parent.collection, [ref], user);
	}
}

export async function guardCreate(payload: Record<string, unknown>, collection: string, ctx: GuardContext) {
	const limit = limitedTo(collection, ctx.accountability);
	if (limit && payload && typeof payload === 'object') await assertPayload(ctx, collection, payload, limit.user, 'create');
	return payload;
}

export async function guardUpdate(payload: Record<string, unknown>, collection: string, keys: PrimaryKey[], ctx: GuardContext) {
	const limit = limitedTo(collection, ctx.accountability);
	if (!limit) return payload;
	await assertOwned(ctx.database, ctx.schema, collection, keys, limit.user);
	if (payload && typeof payload === 'object') await assertPayload(ctx, collection, payload, limit.user, 'update');
	return payload;
}

export async function guardDelete(keys: PrimaryKey[], collection: string, ctx: GuardContext) {
	const limit = limitedTo(collection, ctx.accountability);
	if (limit) await assertOwned(ctx.database, ctx.schema, collection, keys, limit.user);
	return keys;
}

/**
 * System records that point at an item — comments, shares, content versions — only at the
 * caller's own rows: Directus checks them with its policies alone, which know no owners, so a
 * Studio user could comment on (and so learn the existence of) another owner's row. A missing row
 * and someone else's answer alike (403), as Directus does.
 */
export async function guardItemReference(payload: Record<string, unknown>, ctx: GuardContext) {
	if (!isRecord(payload) || !ctx.accountability || ctx.accountability.admin) return payload;
	const collection = payload['collection'];
	const item = payload['item'];
	if (typeof collection !== 'string' || !OWNED.has(collection) || item === undefined || item === null) return payload;
	if (typeof item !== 'string' && typeof item !== 'number') throw new ForbiddenError();
	await assertOwned(ctx.database, ctx.schema, collection, [item], ctx.accountability.user ?? null);
	return payload;
}
