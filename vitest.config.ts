import { defineConfig } from 'vitest/config';

/**
 * Unit tests, then the integration suite on SQLite, and — when TEST_DB names them (a comma list:
 * `postgres`, `mysql`) — again on PostgreSQL and on MariaDB/MySQL (each instance in a fresh
 * database, dropped afterwards). Integration files each start a real Directus and the machine has
 * 2 cores: one file at a time.
 */
const databases = (process.env.TEST_DB ?? '').split(',').map((name) => name.trim());
const postgres = databases.includes('postgres');
const mysql = databases.includes('mysql');
/**
 * PostgreSQL runs the whole suite but the Data Studio test, which runs on SQLite (MariaDB/MySQL: see below):
 * what it adds (the browser side) does not depend on the database, and it is one of the slowest
 * files (about 2 minutes); the figures it shows come from routes the other files cover on each database.
 */
const STUDIO = 'test/integration/studio.test.ts';
/**
 * `npm start` and `npm run cli` on the local instance, and the package installed into a new Directus project:
 * both on SQLite, the database those start with (and the install test alone installs Directus once more).
 */
/**
 * The HSM test proves the PKCS#11 provider (a token, its PIN, KEK rotation), not a database: the key
 * hierarchy's database side (wrapped keys, promotion, rewrap) runs in key-hierarchy.test.ts on SQLite and PostgreSQL (see below).
 */
const SQLITE_ONLY = [STUDIO, 'test/integration/local-instance.test.ts', 'test/integration/install.test.ts', 'test/integration/hsm.test.ts'];
/**
 * MariaDB/MySQL run the files whose outcome depends on what it does differently: limits, dates, collations
 * and locks (storage), key case (binding), its UPDATE … JOIN compare-and-swap (rotation, lifecycle,
 * adopt-encrypt-special), its error texts (hostile, plaintext), every route (api), the vault and the audit
 * (vault, identities). These run on SQLite and PostgreSQL only: the isolation suites (matrix, isolation)
 * and the hook's paths (foundation, field-registry), whose guards act on Directus's queries before any SQL is
 * built; and the key hierarchy, whose one database-specific step (the key row's SELECT … FOR UPDATE) is
 * PostgreSQL's and MariaDB's alike. MariaDB commits slowly here (a flush per commit): each of these files
 * takes it 1.3–2× PostgreSQL's time, which CI's time limit cannot carry for what they would not add.
 */
const SERVER_SQL_ALIKE = ['matrix', 'isolation', 'foundation', 'field-registry', 'key-hierarchy'].map((name) => `test/integration/${name}.test.ts`);
const NOT_ON_MYSQL = ['test/integration/**/*.postgres.test.ts', ...SQLITE_ONLY, ...SERVER_SQL_ALIKE];
/**
 * The Directus 11 smoke run (`npm run test:directus-11`, with CREDENTIALS_DIRECTUS_HOST naming the folder
 * Directus 11 is installed in): the routes, the hook's write and read paths, isolation on every channel,
 * plaintext at every door, the key lifecycle, and the Data Studio (machine identities made in it included), on
 * SQLite. The rest (storage limits per database, rotation at scale, several instances, the install, the key
 * hierarchy and the identities' routes, which are the extension's own tables and code) depends on the
 * database or the package, not on the major, and runs on 12.
 */
const DIRECTUS_11_SMOKE = ['api', 'foundation', 'isolation', 'plaintext', 'lifecycle', 'studio'].map((name) => `test/integration/${name}.test.ts`);

export default defineConfig({
	test: {
		fileParallelism: false,
		maxWorkers: 1,
		testTimeout: 60_000,
		hookTimeout: 600_000,
		sequence: { groupOrder: 0 },
		projects: [
			{ test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } } },
			{
				test: {
					name: 'sqlite',
					include: ['test/integration/**/*.test.ts'],
					exclude: ['test/integration/**/*.postgres.test.ts'],
					env: { HARNESS_DB: 'sqlite' },
					testTimeout: 120_000,
					hookTimeout: 600_000,
					sequence: { groupOrder: 1 },
				},
			},
			...(postgres
				? [
						{
							test: {
								name: 'postgres',
								include: ['test/integration/**/*.test.ts'],
								exclude: SQLITE_ONLY,
								env: { HARNESS_DB: 'postgres' },
								testTimeout: 120_000,
								hookTimeout: 600_000,
								sequence: { groupOrder: 2 },
							},
						},
					]
				: []),
			...(process.env.CREDENTIALS_DIRECTUS_HOST
				? [
						{
							test: {
								name: 'directus-11',
								include: DIRECTUS_11_SMOKE,
								env: { HARNESS_DB: 'sqlite' },
								testTimeout: 120_000,
								hookTimeout: 600_000,
								sequence: { groupOrder: 4 },
							},
						},
					]
				: []),
			...(mysql
				? [
						{
							test: {
								name: 'mysql',
								include: ['test/integration/**/*.test.ts'],
								exclude: NOT_ON_MYSQL,
								env: { HARNESS_DB: 'mysql' },
								testTimeout: 120_000,
								hookTimeout: 600_000,
								sequence: { groupOrder: 3 },
							},
						},
					]
				: []),
		],
	},
});
