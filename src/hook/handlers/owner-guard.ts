import { ForbiddenError } from '@directus/errors';
import type { Accountability, Query, SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import { COLLECTIONS } from '../../schema/collections.js';

/**
 * Row ownership for the extension's collections: a non-admin caller sees and changes only the
 * rows whose owner field is their user id, and may only point a row at a connection they own.
 * It runs inside Directus's own write and read paths (items.query / create / update / delete),
 * so /items, GraphQL, the Data Studio and the routes' ItemsService calls all get the same rule.
 * Internal calls (accountability null) and admins pass.
 */
interface Owned {
	ownerField: string;
	/** Fields that reference another owned collection (e.g. creator_profile_id → platform_connections). */
	parents: { field: string; collection: string }[];
}

const OWNED = new Map<string, Owned>(
	COLLECTIONS.map((c) => [
		c.collection,
		{
			ownerField: c.ownerField,
			parents: c.relations
				.filter((r) => COLLECTIONS.some((o) => o.collection === r.related_collection))
				.map((r) => ({ field: r.field, collection: r.related_collection })),
		},
	]),
);

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

export function scopeQuery(query: Query, collection: string, accountability: Accountability | null): Query {
	const limit = limitedTo(collection, accountability);
	if (!limit) return query;
	// No user (public): a filter that matches no row, rather than "owner is null".
	const own = limit.user ? { [limit.owned.ownerField]: { _eq: limit.user } } : { [limit.owned.ownerField]: { _in: [] } };
	return { ...query, filter: query.filter ? { _and: [query.filter, own] } : own };
}

async function assertOwned(database: Knex, schema: SchemaOverview | null, collection: string, keys: PrimaryKey[], user: string | null) {
	if (keys.length === 0) return;
	if (!user) throw new ForbiddenError();
	const owned = OWNED.get(collection)!;
	const pk = schema?.collections[collection]?.primary ?? 'id';
	const unique = [...new Set(keys.map(String))];
	const rows = await database(collection).select(pk).whereIn(pk, unique).andWhere(owned.ownerField, user);
	// Missing and foreign rows look the same: Directus answers 403 for both.
	if (rows.length !== unique.length) throw new ForbiddenError();
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
