import { describe, expect, it } from 'vitest';
import { DecryptError, ENVELOPE_PREFIX, keyId, makeKeyring, openEnvelope, openEnvelopeBytes, parseEnvelope, sealPlaintext, sealValue, type ValueContext } from '../../src/crypto/index.js';
import { rawKey, ring } from './helpers.js';

const ctx: ValueContext = { collection: 'platform_connections', field: 'encrypted_credentials', pk: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890' };

const failure = (fn: () => unknown) => {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(DecryptError);
		return (error as DecryptError).reason;
	}
	throw new Error('expected a DecryptError');
};

describe('envelope', () => {
	const values: [string, unknown][] = [
		['string', 'sk-proj-abc123'],
		['object', { sessionToken: 'sess_abc', cookies: [{ name: 'sess', value: 'abc', domain: '.example.com' }] }],
		['unicode', { p: 'pässwörd 🔑 密码', rtl: 'مرحبا' }],
		['nested arrays', [[1, [2, [3, { x: [null, true, false] }]]]]],
		['number', 42.5],
		['boolean', false],
		['null', null],
		['64 KB', { blob: 'x'.repeat(64 * 1024) }],
	];
	it.each(values)('round-trips a %s value with its type', (_name, value) => {
		const r = ring();
		expect(openEnvelope(r, sealValue(r, value, ctx), ctx)).toEqual(value);
	});

	it.each(values)("re-seals a %s value's bytes under the current key as rotate does: the same value, bound to the same row", (_name, value) => {
		const oldKey = rawKey();
		const before = sealValue(ring(oldKey), value, ctx);
		const r = makeKeyring(rawKey(), [oldKey]);
		const opened = openEnvelopeBytes(r, before, ctx);
		expect(opened).toMatchObject({ canonical: true });
		// The bytes are the JSON sealValue wrote, unparsed.
		expect(opened.plain.toString('utf8')).toBe(JSON.stringify(value));
		const after = sealPlaintext(r, opened.plain, ctx);
		expect(parseEnvelope(after).keyId).toBe(r.current.id);
		expect(openEnvelope(r, after, ctx)).toEqual(value);
		expect(failure(() => openEnvelope(r, after, { ...ctx, pk: 'another-row' }))).toBe('authentication-failed');
	});

	it('uses a fresh IV per value and names the key id, never the key', () => {
		const raw = rawKey();
		const r = ring(raw);
		const a = sealValue(r, 'same', ctx);
		const b = sealValue(r, 'same', ctx);
		expect(a).not.toBe(b);
		expect(parseEnvelope(a).iv.equals(parseEnvelope(b).iv)).toBe(false);
		expect(a.startsWith(`${ENVELOPE_PREFIX}${keyId(raw)}:`)).toBe(true);
		expect(a).not.toContain(raw.toString('base64'));
		expect(a).not.toContain(raw.toString('base64url'));
		expect(parseEnvelope(a).iv).toHaveLength(12);
		expect(parseEnvelope(a).tag).toHaveLength(16);
	});

	it('never hands out an IV twice, across many refills of its random pool', () => {
		const r = ring();
		const ivs = new Set<string>();
		for (let i = 0; i < 5000; i++) ivs.add(parseEnvelope(sealValue(r, i, ctx)).iv.toString('hex'));
		expect(ivs.size).toBe(5000);
		// Not a run of zeros or a counter: bytes look random (each byte value shows up across 5,000 IVs).
		const bytes = new Set([...ivs].flatMap((iv) => [...Buffer.from(iv, 'hex')]));
		expect(bytes.size).toBe(256);
	});

	it('refuses a ciphertext moved to another row, field or collection', () => {
		const r = ring();
		const env = sealValue(r, { secret: 1 }, ctx);
		expect(failure(() => openEnvelope(r, env, { ...ctx, pk: 'another-row' }))).toBe('authentication-failed');
		expect(failure(() => openEnvelope(r, env, { ...ctx, field: 'other_field' }))).toBe('authentication-failed');
		expect(failure(() => openEnvelope(r, env, { ...ctx, collection: 'download_credentials' }))).toBe('authentication-failed');
		// Numeric and string forms of the same key are the same row.
		const numeric = { ...ctx, pk: 7 };
		expect(openEnvelope(r, sealValue(r, 'v', numeric), { ...ctx, pk: '7' })).toBe('v');
	});

	it('refuses every flipped byte of IV, tag and ciphertext', () => {
		const r = ring();
		const env = sealValue(r, { api_key: 'sk-live-123' }, ctx);
		const [prefix, version, kid, ...parts] = env.split(':');
		parts.forEach((part, index) => {
			const bytes = Buffer.from(part!, 'base64url');
			for (let i = 0; i < bytes.length; i++) {
				const tampered = Buffer.from(bytes);
				tampered[i]! ^= 0x01;
				const copy = [...parts];
				copy[index] = tampered.toString('base64url');
				const reason = failure(() => openEnvelope(r, [prefix, version, kid, ...copy].join(':'), ctx));
				expect(['authentication-failed', 'malformed']).toContain(reason);
			}
		});
	});

	it('refuses a relabelled key id, an unknown key and a wrong key', () => {
		const a = rawKey();
		const b = rawKey();
		const both = ring(a, b);
		const underB = sealValue(ring(b), 'secret', ctx);
		// Relabel B's ciphertext as A's: the key id is authenticated, so it fails.
		const relabelled = underB.replace(keyId(b), keyId(a));
		expect(failure(() => openEnvelope(both, relabelled, ctx))).toBe('authentication-failed');
		expect(openEnvelope(both, underB, ctx)).toBe('secret');
		expect(failure(() => openEnvelope(ring(a), underB, ctx))).toBe('unknown-key');
	});

	it('refuses truncated and malformed envelopes', () => {
		const r = ring();
		const env = sealValue(r, 'secret', ctx);
		for (const bad of [env.slice(0, -4), env.slice(0, 20), `${env}:extra`, env.replace('cred:v2', 'cred:v3'), 'cred:v2:zzzzzzzz:a:b:c', env.replace(/:([^:]*)$/, ':$1!')]) {
			expect(['malformed', 'authentication-failed', 'unknown-key']).toContain(failure(() => openEnvelope(r, bad, ctx)));
		}
	});

	it('derives stable, distinct 8-hex-digit key ids', () => {
		const k = rawKey();
		expect(keyId(k)).toMatch(/^[0-9a-f]{8}$/);
		expect(keyId(Buffer.from(k))).toBe(keyId(k));
		expect(keyId(rawKey())).not.toBe(keyId(k));
	});
});
