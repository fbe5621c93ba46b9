import { createDecipheriv, scrypt } from 'node:crypto';
import { DecryptError } from './errors.js';

/**
 * Directus's own `encrypt` special (12.x, `utils/encrypt.ts`), read-only, so that
 * `credentials adopt-encrypt-special` can re-seal its values under the extension's key:
 *   1||scrypt||<N>||<r>||<p>||<salt b64>||<iv b64>||<ciphertext b64>||<tag b64>
 * AES-256-GCM under scrypt(SECRET, salt), one derivation per value. No key id, no binding to the row.
 * The cost parameters come from the stored value itself: only those within what Directus writes
 * (N = 2^14, r = 8, p = 1) and a margin around it are derived, so a planted value cannot make a
 * migration derive for minutes or allocate gigabytes.
 */
export const DIRECTUS_ENCRYPT_PREFIX = '1||scrypt||';

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
// Directus writes N = 2^14, r = 8, p = 1; at most twice that cost is derived (32 MiB, ~100 ms).
const LIMITS = { N: { min: 2 ** 10, max: 2 ** 15 }, r: { min: 1, max: 8 }, p: { min: 1, max: 1 } } as const;

export interface DirectusEncrypted {
	N: number;
	r: number;
	p: number;
	salt: Buffer;
	iv: Buffer;
	ciphertext: Buffer;
	tag: Buffer;
}

export function isDirectusEncrypted(value: unknown): value is string {
	return typeof value === 'string' && value.startsWith(DIRECTUS_ENCRYPT_PREFIX);
}

const inRange = (value: number, { min, max }: { min: number; max: number }) => Number.isInteger(value) && value >= min && value <= max;

/** The parts of a value, or the reason it is not one Directus wrote (never quoting the value). */
export function parseDirectusEncrypted(value: string): DirectusEncrypted {
	const parts = value.split('||');
	if (parts.length !== 9 || !isDirectusEncrypted(value)) throw new DecryptError('malformed', "not a value of Directus's encrypt special");
	const [, , nText, rText, pText, ...encoded] = parts as [string, string, string, string, string, string, string, string, string];
	if (!encoded.every((part) => B64.test(part))) throw new DecryptError('malformed', "not a value of Directus's encrypt special (a part is not base64)");
	const [N, r, p] = [Number(nText), Number(rText), Number(pText)];
	if (!inRange(N, LIMITS.N) || (N & (N - 1)) !== 0 || !inRange(r, LIMITS.r) || !inRange(p, LIMITS.p)) {
		// Not quoted: a plaintext that merely starts like such a value would leak into the message.
		throw new DecryptError('malformed', "scrypt parameters are outside what Directus writes");
	}
	const [salt, iv, ciphertext, tag] = encoded.map((part) => Buffer.from(part, 'base64')) as [Buffer, Buffer, Buffer, Buffer];
	if (salt.length < 8 || iv.length !== 12 || tag.length !== 16) throw new DecryptError('malformed', "not a value of Directus's encrypt special (salt, iv or tag size)");
	return { N, r, p, salt, iv, ciphertext, tag };
}

const derive = (secret: string, { salt, N, r, p }: DirectusEncrypted) =>
	new Promise<Buffer>((resolve, reject) =>
		// maxmem: scrypt needs 128·N·r bytes; twice that leaves room for its bookkeeping.
		scrypt(secret, salt, 32, { N, r, p, maxmem: 256 * N * r }, (error, key) => (error ? reject(error) : resolve(key))),
	);

/** The plaintext Directus sealed, given its SECRET; a wrong SECRET or altered bytes fail authentication. */
export async function openDirectusEncrypted(value: string, secret: string): Promise<string> {
	const parsed = parseDirectusEncrypted(value);
	// OpenSSL refuses some combinations within the bounds (N must be below 2^(16r)): a value that cannot be derived is malformed, not a crash.
	const key = await derive(secret, parsed).catch(() => {
		throw new DecryptError('malformed', "scrypt parameters Directus's encrypt special does not write");
	});
	try {
		const decipher = createDecipheriv('aes-256-gcm', key, parsed.iv, { authTagLength: 16 });
		decipher.setAuthTag(parsed.tag);
		return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]).toString('utf8');
	} catch {
		throw new DecryptError('authentication-failed', "Directus's encrypt value does not open with this SECRET (another SECRET, or altered bytes)");
	} finally {
		key.fill(0);
	}
}
