import { describe, expect, it } from 'vitest';
// Directus's own implementation of its `encrypt` special, as installed: what adopt-encrypt-special must read.
import { encrypt as directusEncrypt } from '@directus/api/utils/encrypt';
import { classifyStored, DecryptError, isDirectusEncrypted, makeKeyring, openDirectusEncrypted, openStoredValue, openStoredValueAsync, parseDirectusEncrypted, sealValue } from '../../src/crypto/index.js';

const SECRET = 'a-directus-SECRET-value';

describe("Directus's encrypt special, read-only", () => {
	it('opens what Directus 12 wrote, empty and non-ASCII values included', async () => {
		for (const plaintext of ['sk-live-123', '', 'pässwörd 🔑', 'x'.repeat(10_000)]) {
			const stored = await directusEncrypt(plaintext, SECRET);
			expect(isDirectusEncrypted(stored)).toBe(true);
			expect(await openDirectusEncrypted(stored, SECRET)).toBe(plaintext);
		}
	});

	it('another SECRET or one altered byte fails authentication, without quoting the value', async () => {
		const stored = await directusEncrypt('the-plaintext', SECRET);
		await expect(openDirectusEncrypted(stored, 'another-secret')).rejects.toMatchObject({ reason: 'authentication-failed' });
		const parts = stored.split('||');
		const tag = Buffer.from(parts[8]!, 'base64');
		tag[0]! ^= 1;
		parts[8] = tag.toString('base64');
		const error = await openDirectusEncrypted(parts.join('||'), SECRET).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(DecryptError);
		expect((error as Error).message).not.toContain(parts[7]);
	});

	it('a planted value cannot make it derive at any cost: parameters beyond what Directus writes are refused before deriving', async () => {
		const stored = (await directusEncrypt('x', SECRET)).split('||');
		for (const [index, value] of [[2, String(2 ** 24)], [2, '1000'], [3, '1024'], [4, '64'], [2, '-16384'], [2, '16384.5']] as const) {
			const planted = stored.map((part, i) => (i === index ? value : part)).join('||');
			const started = Date.now();
			expect(() => parseDirectusEncrypted(planted)).toThrow(/outside what Directus writes/);
			await expect(openDirectusEncrypted(planted, SECRET)).rejects.toMatchObject({ reason: 'malformed' });
			expect(Date.now() - started).toBeLessThan(1_000);
		}
	});

	it('other strings are not taken for it', () => {
		for (const value of ['1||scrypt||', 'plain', 'cred:v2:abc', `1||scrypt||16384||8||1||${'!'.repeat(4)}||a||b||c`, '1||bcrypt||16384||8||1||a||b||c||d']) {
			expect(() => parseDirectusEncrypted(value)).toThrow(DecryptError);
		}
		expect(isDirectusEncrypted({ enc: '1||scrypt||' })).toBe(false);
	});

	describe('in a protected field (left there by adopt-encrypt-special, not reached yet)', () => {
		const ring = makeKeyring(Buffer.alloc(32, 3));
		const ctx = { collection: 'vault', field: 'api_key', pk: '6f1f3c9e-8a52-4c55-9d1a-1b2c3d4e5f60' };

		it('is classified as its own format, never as plaintext (a write path would seal the ciphertext as if it were the secret)', async () => {
			const stored = await directusEncrypt('sk-live-1', SECRET);
			expect(classifyStored(stored)).toEqual({ format: 'directus-encrypt', sealed: stored });
			// Only the asynchronous opener derives scrypt keys: the synchronous one (write paths) refuses.
			expect(() => openStoredValue(ring, stored, ctx)).toThrow(expect.objectContaining({ reason: 'needs-secret' }));
		});

		it('opens with SECRET, always outdated; without SECRET it says so', async () => {
			const stored = await directusEncrypt('sk-live-2', SECRET);
			expect(await openStoredValueAsync(ring, stored, ctx, SECRET)).toEqual({ value: 'sk-live-2', outdated: true, earlierBinding: false });
			await expect(openStoredValueAsync(ring, stored, ctx, null)).rejects.toMatchObject({ reason: 'needs-secret' });
			await expect(openStoredValueAsync(ring, stored, ctx, 'another')).rejects.toMatchObject({ reason: 'authentication-failed' });
		});

		it("a value encrypted twice (a field that had both the special and the extension's protection) opens to the secret, for its own row only", async () => {
			const twice = await directusEncrypt(sealValue(ring, 'sk-live-3', ctx), SECRET);
			expect((await openStoredValueAsync(ring, twice, ctx, SECRET)).value).toBe('sk-live-3');
			// Planted in another row, the inner envelope does not open there: it fails, neither the secret nor the envelope comes out.
			await expect(openStoredValueAsync(ring, twice, { ...ctx, pk: 'a-different-row' }, SECRET)).rejects.toMatchObject({ reason: 'authentication-failed' });
			// A secret that merely starts like an envelope is the secret.
			const lookalike = await directusEncrypt('cred:v2:not-an-envelope', SECRET);
			expect((await openStoredValueAsync(ring, lookalike, ctx, SECRET)).value).toBe('cred:v2:not-an-envelope');
		});

		it('v2 values go through the synchronous opener unchanged', async () => {
			const sealed = sealValue(ring, { a: 1 }, ctx);
			expect(await openStoredValueAsync(ring, sealed, ctx, null)).toEqual(openStoredValue(ring, sealed, ctx));
		});
	});
});
