import type { Knex } from 'knex';
import { dialectOf } from '../lib/dialect.js';

/**
 * Indexes the routes' lookups need that a Directus field cannot declare (its `is_indexed` covers one
 * column). get-platform-session asks for a profile's newest session on one platform: with this
 * index that is one index range read, not a sort of every session the profile ever stored;
 * create-profile finds the caller's existing connection without reading every connection.
 */
export interface IndexDef {
	table: string;
	name: string;
	columns: string[];
}

export const INDEXES: IndexDef[] = [
	{ table: 'platform_sessions', name: 'platform_sessions_newest_by_profile', columns: ['creator_profile_id', 'platform', 'captured_at'] },
	// create-profile looks for the caller's own connection to one platform under one username before it creates one.
	{ table: 'platform_connections', name: 'platform_connections_by_owner', columns: ['owner', 'platform', 'platform_username'] },
	// The audit is read newest first, overall, per identity and per row.
	{ table: 'credentials_audit', name: 'credentials_audit_by_time', columns: ['timestamp'] },
	{ table: 'credentials_audit', name: 'credentials_audit_by_identity', columns: ['identity', 'timestamp'] },
	{ table: 'credentials_audit', name: 'credentials_audit_by_item', columns: ['collection', 'item'] },
];

/** Whether an index of that name exists on the table, asked the way each database lists them. */
async function hasIndex(db: Knex, { table, name }: IndexDef): Promise<boolean> {
	const dialect = dialectOf(db);
	const rows =
		dialect === 'postgres'
			? await db('pg_indexes').select('indexname').whereRaw('schemaname = current_schema()').andWhere({ tablename: table, indexname: name })
			: dialect === 'mysql'
				? await db('information_schema.statistics').select('index_name').whereRaw('table_schema = database()').andWhere({ table_name: table, index_name: name })
				: dialect === 'sqlite'
					? await db('sqlite_master').select('name').where({ type: 'index', tbl_name: table, name })
					: null;
	// A database this cannot ask gets no index rather than a guess.
	return rows === null || rows.length > 0;
}

/** Creates the missing ones; returns what it did, in words. Idempotent. */
export async function installIndexes(db: Knex): Promise<string[]> {
	const changes: string[] = [];
	for (const index of INDEXES) {
		if (!(await db.schema.hasTable(index.table)) || (await hasIndex(db, index))) continue;
		await db.schema.alterTable(index.table, (t) => void t.index(index.columns, index.name));
		changes.push(`created index ${index.name} on ${index.table} (${index.columns.join(', ')})`);
	}
	return changes;
}
