import { describe, expect, it } from 'vitest';
import { classifyStored, DecryptError, isSealed, openStored, sealForColumn, sealValue } from '../../src/crypto/index.js';
import { legacyEncrypt, rawKey, ring } from './helpers.js';

const ctx = { collection: 'creator_profiles', field: 'credentials', pk: 'row-1' };

describe('stored values', () => {
	it('reads the seed legacy string iv:authTag:ciphertext with any configured key', () => {
		const old = rawKey();
		const value = { sessionToken: 'sess_abc123xyz', authId: 'user_9876' };
		for (const ivBytes of [12, 16]) {
			const legacy = legacyEncrypt(old, value, ivBytes);
			expect(classifyStored(legacy).format).toBe('legacy-string');
			expect(openStored(ring(rawKey(), old), legacy, ctx)).toEqual(value);
		}
	});

	it('reads the seed object form { enc: "v1:..." }, also as JSON text (SQLite)', () => {
		const key = rawKey();
		const stored = { enc: `v1:${legacyEncrypt(key, ['a', 1])}` };
		expect(classifyStored(stored).format).toBe('legacy-object');
		expect(openStored(ring(key), stored, ctx)).toEqual(['a', 1]);
		expect(openStored(ring(key), JSON.stringify(stored), ctx)).toEqual(['a', 1]);
	});

	it('refuses a legacy value no configured key opens', () => {
		expect(() => openStored(ring(), legacyEncrypt(rawKey(), 'x'), ctx)).toThrow(DecryptError);
	});

	it('stores JSON columns as { enc } and text columns as the bare envelope', () => {
		const r = ring();
		const json = sealForColumn(r, { a: 1 }, ctx, true) as { enc: string };
		const text = sealForColumn(r, { a: 1 }, ctx, false) as string;
		expect(Object.keys(json)).toEqual(['enc']);
		expect(classifyStored(json)).toMatchObject({ format: 'v2', keyId: r.current.id });
		expect(classifyStored(text)).toMatchObject({ format: 'v2', keyId: r.current.id });
		expect(openStored(r, json, ctx)).toEqual({ a: 1 });
		expect(openStored(r, JSON.stringify(json), ctx)).toEqual({ a: 1 });
		expect(openStored(r, text, ctx)).toEqual({ a: 1 });
	});

	it('classifies empty and plaintext, and never opens plaintext', () => {
		expect(classifyStored(null).format).toBe('empty');
		expect(classifyStored('hunter2').format).toBe('plaintext');
		expect(classifyStored({ password: 'x' }).format).toBe('plaintext');
		expect(classifyStored({ enc: 'not-ours' }).format).toBe('plaintext');
		expect(isSealed('hunter2')).toBe(false);
		expect(isSealed(sealValue(ring(), 'x', ctx))).toBe(true);
		expect(() => openStored(ring(), 'hunter2', ctx)).toThrow(DecryptError);
		expect(openStored(ring(), null, ctx)).toBeNull();
	});

	it('keeps a broken cred:v2 string out of the plaintext bucket', () => {
		expect(classifyStored('cred:v2:broken').format).toBe('v2');
		expect(() => openStored(ring(), 'cred:v2:broken', ctx)).toThrow(DecryptError);
	});
});
