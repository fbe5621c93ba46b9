import { createCipheriv, randomBytes } from 'node:crypto';
import { makeKeyring } from '../../src/crypto/index.js';

export const rawKey = () => randomBytes(32);
export const ring = (current = rawKey(), ...previous: Buffer[]) => makeKeyring(current, previous);

/** The seed service's encryptJSON: base64 iv:authTag:ciphertext, no context. */
export function legacyEncrypt(key: Buffer, value: unknown, ivBytes = 12): string {
	const iv = randomBytes(ivBytes);
	const cipher = createCipheriv('aes-256-gcm', key, iv);
	const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
	return [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64')).join(':');
}
