import { createCipheriv, randomBytes } from 'node:crypto';
import { additionalData, ENVELOPE_PREFIX, keyId, makeKeyring, type ValueContext } from '../../src/crypto/index.js';

export const rawKey = () => randomBytes(32);
export const ring = (current = rawKey(), ...previous: Buffer[]) => makeKeyring(current, previous);

/** The seed service's encryptJSON: base64 iv:authTag:ciphertext, no context. */
export function legacyEncrypt(key: Buffer, value: unknown, ivBytes = 12): string {
	const iv = randomBytes(ivBytes);
	const cipher = createCipheriv('aes-256-gcm', key, iv);
	const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
	return [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64')).join(':');
}

/**
 * A cred:v2 envelope bound to `bound` as the key's spelling — what versions before canonical binding
 * wrote when a client sent an upper-case UUID. Only tests need to write the old form.
 */
export function sealWithBinding(key: Buffer, value: unknown, ctx: ValueContext, bound: string): string {
	const id = keyId(key);
	const iv = randomBytes(12);
	const cipher = createCipheriv('aes-256-gcm', key, iv);
	cipher.setAAD(additionalData(id, ctx, bound));
	const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
	return `${ENVELOPE_PREFIX}${id}:${[iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64url')).join(':')}`;
}

/** Two different keys whose 8-hex key ids collide: a birthday search over random keys (about 77k on average). */
export function collidingKeyPair(): [Buffer, Buffer] {
	const seen = new Map<string, Buffer>();
	for (;;) {
		const raw = randomBytes(32);
		const other = seen.get(keyId(raw));
		if (other) return [other, raw];
		seen.set(keyId(raw), raw);
	}
}
