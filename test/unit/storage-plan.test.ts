import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, MAX_ENVELOPE_CHARS, MYSQL_PROTECTED_TEXT_TYPE, MYSQL_TEXT_TYPES } from '../../src/contracts/limits.js';
import { makeKeyring, sealValue } from '../../src/crypto/index.js';
import { planStorage, type ColumnInfo } from '../../src/schema/storage.js';

const column = (table: string, name: string, dataType: string, collation: string | null = 'utf8mb4_general_ci'): ColumnInfo => ({
	table,
	column: name,
	dataType,
	collation,
	nullable: true,
	maxLength: dataType === 'varchar' ? 255 : null,
});
const protectedColumns = (dataType: string, collation: string) => [
	column('platform_connections', 'encrypted_credentials', dataType, collation),
	column('download_credentials', 'encrypted_credentials', dataType, collation),
	column('platform_sessions', 'encrypted_cookies', dataType, collation),
	column('api_credentials', 'encrypted_key', dataType, collation),
	column('creator_profiles', 'credentials', 'longtext', 'utf8mb4_bin'),
];
const none = () => [];

describe('limits', () => {
	it('the largest body seals to an envelope the protected column type holds', () => {
		const envelope = sealValue(makeKeyring(Buffer.alloc(32, 7)), 'x'.repeat(MAX_BODY_BYTES - 16), { collection: 'c', field: 'f', pk: 'id' });
		expect(envelope.length).toBeLessThanOrEqual(MAX_ENVELOPE_CHARS);
		expect(MYSQL_TEXT_TYPES.find((t) => t.type === MYSQL_PROTECTED_TEXT_TYPE)!.bytes).toBeGreaterThanOrEqual(MAX_ENVELOPE_CHARS);
		expect(MYSQL_TEXT_TYPES.find((t) => t.type === 'text')!.bytes).toBeLessThan(MAX_ENVELOPE_CHARS);
	});
});

describe('planStorage (MySQL/MariaDB column types)', () => {
	it('widens TEXT protected columns, gives them and the vault identity a binary collation, and dates DATETIME', () => {
		const plan = planStorage(
			[...protectedColumns('text', 'utf8mb4_general_ci'), column('api_credentials', 'identity', 'varchar'), column('platform_sessions', 'expires_at', 'timestamp', null)],
			none,
		);
		const sql = plan.alters.map((a) => `${a.sql} ${a.bindings.join('.')}`);
		expect(sql).toContain(`ALTER TABLE ?? MODIFY ?? ${MYSQL_PROTECTED_TEXT_TYPE.toUpperCase()} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL platform_sessions.encrypted_cookies`);
		expect(sql).toContain('ALTER TABLE ?? MODIFY ?? VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL api_credentials.identity');
		expect(sql).toContain('ALTER TABLE ?? MODIFY ?? DATETIME NULL platform_sessions.expires_at');
		// A JSON column (LONGTEXT, binary, on MariaDB) already holds any envelope.
		expect(sql.some((s) => s.includes('creator_profiles'))).toBe(false);
		expect(plan.alters).toHaveLength(6);
		expect(plan.castTimestamp.find((f) => f.field === 'expires_at')).toEqual({ collection: 'platform_sessions', field: 'expires_at', special: ['cast-timestamp'] });
	});

	it('keeps a large type that is already there and only changes its collation', () => {
		const plan = planStorage(protectedColumns('longtext', 'utf8mb4_general_ci'), none);
		expect(plan.alters.map((a) => a.sql)).toEqual(Array(4).fill('ALTER TABLE ?? MODIFY ?? LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL'));
	});

	it('has nothing to do once upgraded, and keeps the specials a date field already has', () => {
		const upgraded = [...protectedColumns(MYSQL_PROTECTED_TEXT_TYPE, 'utf8mb4_bin'), column('api_credentials', 'identity', 'varchar', 'utf8mb4_bin'), column('platform_sessions', 'captured_at', 'datetime', null)];
		const plan = planStorage(upgraded, (collection, field) => (field === 'captured_at' ? ['date-created', 'cast-timestamp'] : ['cast-timestamp']));
		expect(plan).toEqual({ alters: [], castTimestamp: [] });
		const fresh = planStorage(upgraded, (collection, field) => (field === 'captured_at' ? ['date-created'] : []));
		expect(fresh.castTimestamp.find((f) => f.field === 'captured_at')?.special).toEqual(['date-created', 'cast-timestamp']);
	});
});
