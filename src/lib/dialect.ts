import type { Knex } from 'knex';

/** The SQL dialects whose differences this extension handles; `other` gets the portable path. */
export type Dialect = 'postgres' | 'mysql' | 'sqlite' | 'other';

/** Which database a knex instance talks to, from the client name Directus configured (pg, mysql/mysql2, sqlite3). */
export function dialectOf(db: Knex): Dialect {
	const client = String(db.client.config.client);
	if (['pg', 'postgres', 'postgresql'].includes(client)) return 'postgres';
	if (client.startsWith('mysql')) return 'mysql';
	if (client.startsWith('sqlite') || client === 'better-sqlite3') return 'sqlite';
	return 'other';
}
