import { describe, expect, it } from 'vitest';
import { classifyStored, openStored, sealValue } from '../../src/crypto/index.js';
import { emitEventsForProtectedWrites } from '../../src/hook/handlers/flow-operations.js';
import { MASK, maskRows } from '../../src/hook/handlers/mask-on-read.js';
import { assertNoPlaintext } from '../../src/hook/handlers/plaintext-guard.js';
import { protectValue } from '../../src/hook/handlers/protect-on-write.js';
import { ProtectedFields } from '../../src/schema/protected-fields.js';
import { legacyEncrypt, rawKey, ring } from './helpers.js';

const ctx = { collection: 'platform_connections', field: 'encrypted_credentials', pk: 'row-1' };

describe('protectValue', () => {
	it('seals plaintext for the row and keeps null as null', () => {
		const r = ring();
		const sealed = protectValue(r, { password: 'p' }, ctx, false);
		expect(classifyStored(sealed).format).toBe('v2');
		expect(openStored(r, sealed, ctx)).toEqual({ password: 'p' });
		expect(protectValue(r, null, ctx, false)).toBeNull();
	});

	it('passes an envelope for this exact row unchanged (no double encryption)', () => {
		const r = ring();
		const env = sealValue(r, 'x', ctx);
		expect(protectValue(r, env, ctx, false)).toBe(env);
		expect(protectValue(r, env, ctx, true)).toEqual({ enc: env });
		expect(protectValue(r, { enc: env }, ctx, false)).toBe(env);
	});

	it('rejects an envelope from another row with a 400 that names the field only', () => {
		const r = ring();
		const env = sealValue(r, 'CANARY-value', { ...ctx, pk: 'row-2' });
		try {
			protectValue(r, env, ctx, false);
			throw new Error('expected a rejection');
		} catch (error) {
			expect((error as { status: number }).status).toBe(400);
			expect((error as Error).message).toContain('encrypted_credentials');
			expect((error as Error).message).not.toContain(env);
		}
	});

	it('re-seals a legacy value in the new format, bound to the row', () => {
		const key = rawKey();
		const r = ring(key);
		const upgraded = protectValue(r, legacyEncrypt(key, { a: 1 }), ctx, false);
		expect(classifyStored(upgraded).format).toBe('v2');
		expect(openStored(r, upgraded, ctx)).toEqual({ a: 1 });
	});
});

describe('maskRows', () => {
	const fields = new ProtectedFields([ctx]);

	it('masks protected fields by name, including plaintext ones, and leaves null visible', () => {
		const rows = [{ id: 1, encrypted_credentials: 'plain', platform: 'x' }, { id: 2, encrypted_credentials: null }];
		maskRows(fields, ctx.collection, rows);
		expect(rows).toEqual([{ id: 1, encrypted_credentials: MASK, platform: 'x' }, { id: 2, encrypted_credentials: null }]);
	});

	it('masks ciphertext nested in expanded relations and in single-item reads', () => {
		const env = sealValue(ring(), 'x', ctx);
		const row = { id: 1, creator_profile_id: { id: 2, encrypted_credentials: env, sessions: [{ encrypted_cookies: { enc: env } }] } };
		maskRows(fields, 'download_credentials', row);
		expect(row.creator_profile_id.encrypted_credentials).toBe(MASK);
		expect(row.creator_profile_id.sessions[0]!.encrypted_cookies).toBe(MASK);
	});
});

describe('assertNoPlaintext (below the services)', () => {
	const fields = new ProtectedFields([ctx, { collection: 'creator_profiles', field: 'credentials' }]);
	const env = sealValue(ring(), 'x', ctx);
	const builder = (method: string, table: string, data: unknown) => ({
		_method: method,
		_single: { table, [method === 'update' ? 'update' : 'insert']: data },
	});

	it('refuses an insert or update that carries plaintext into a protected column', () => {
		expect(() => assertNoPlaintext(fields, builder('insert', ctx.collection, { encrypted_credentials: 'plain' }))).toThrow(/Refusing to store plaintext/);
		expect(() => assertNoPlaintext(fields, builder('insert', ctx.collection, [{ encrypted_credentials: env }, { encrypted_credentials: 'p' }]))).toThrow();
		expect(() => assertNoPlaintext(fields, builder('update', 'creator_profiles', { credentials: '{"password":"p"}' }))).toThrow();
	});

	it('lets ciphertext, null, other columns, other tables and reads through', () => {
		expect(() => assertNoPlaintext(fields, builder('insert', ctx.collection, { encrypted_credentials: env, platform: 'x' }))).not.toThrow();
		expect(() => assertNoPlaintext(fields, builder('update', 'creator_profiles', { credentials: JSON.stringify({ enc: env }) }))).not.toThrow();
		expect(() => assertNoPlaintext(fields, builder('update', ctx.collection, { encrypted_credentials: null }))).not.toThrow();
		expect(() => assertNoPlaintext(fields, builder('update', ctx.collection, { platform: 'plain is fine here' }))).not.toThrow();
		expect(() => assertNoPlaintext(fields, builder('insert', 'other', { encrypted_credentials: 'plain' }))).not.toThrow();
		expect(() => assertNoPlaintext(fields, { _method: 'select', _single: { table: ctx.collection } })).not.toThrow();
	});
});

describe('emitEventsForProtectedWrites', () => {
	const fields = new ProtectedFields([ctx]);
	it('switches events on for item-create/item-update on protected collections only', () => {
		const op = (type: string, collection: string) => ({ type, options: { collection, emitEvents: false } });
		expect(emitEventsForProtectedWrites(fields, op('item-create', ctx.collection))).toMatchObject({ options: { emitEvents: true } });
		expect(emitEventsForProtectedWrites(fields, op('item-update', ctx.collection))).toMatchObject({ options: { emitEvents: true } });
		expect(emitEventsForProtectedWrites(fields, op('item-create', 'articles'))).toMatchObject({ options: { emitEvents: false } });
		expect(emitEventsForProtectedWrites(fields, op('item-read', ctx.collection))).toMatchObject({ options: { emitEvents: false } });
	});
});
