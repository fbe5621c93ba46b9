import { defineConfig } from 'vitest/config';

/**
 * Unit tests, then the integration suite on SQLite, and — when TEST_DB=postgres — the same
 * integration suite again on PostgreSQL (each instance in a fresh database, dropped afterwards).
 * Integration files each start a real Directus and the machine has 2 cores: one file at a time.
 */
const postgres = process.env.TEST_DB === 'postgres';

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
								env: { HARNESS_DB: 'postgres' },
								testTimeout: 120_000,
								hookTimeout: 600_000,
								sequence: { groupOrder: 2 },
							},
						},
					]
				: []),
		],
	},
});
