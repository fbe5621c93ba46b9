import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { dialectOf } from '../../src/lib/dialect.js';

const withClient = (client: string) => ({ client: { config: { client } } }) as unknown as Knex;

describe('dialectOf', () => {
	it('names each client Directus can be configured with by its dialect', () => {
		expect(['pg', 'postgres', 'postgresql'].map((c) => dialectOf(withClient(c)))).toEqual(['postgres', 'postgres', 'postgres']);
		expect(['mysql', 'mysql2'].map((c) => dialectOf(withClient(c)))).toEqual(['mysql', 'mysql']);
		expect(['sqlite3', 'better-sqlite3'].map((c) => dialectOf(withClient(c)))).toEqual(['sqlite', 'sqlite']);
		// Anything else takes the portable paths, never a dialect's SQL.
		expect(['mssql', 'oracledb', 'cockroachdb'].map((c) => dialectOf(withClient(c)))).toEqual(['other', 'other', 'other']);
	});
});
