import { describe, expect, it } from 'vitest';
// Directus's own implementation of its `encrypt` special, as installed: what adopt-encrypt-special must read.
import { encrypt as directusEncrypt } from '@directus/api/utils/encrypt';
import { DecryptError, isDirectusEncrypted, openDirectusEncrypted, parseDirectusEncrypted } from '../../src/crypto/index.js';

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
});
