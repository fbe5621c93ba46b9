import { createDecipheriv } from 'node:crypto';
import { DecryptError } from './errors.js';
import { parseJson } from './envelope.js';
import type { Keyring } from './keyring.js';

/**
 * The seed service's formats, read-only. Neither carries a key id nor a context, so each
 * configured key is tried; they are re-written as cred:v2 by the next write or by rotation.
 *   legacy string:  <iv>:<authTag>:<ciphertext>        (standard base64 parts)
 *   legacy object:  { "enc": "v1:<iv>:<authTag>:<ciphertext>" }
 */
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const LEGACY_OBJECT_PREFIX = 'v1:';

export function isLegacyString(value: unknown): value is string {
	return typeof value === 'string' && splitLegacy(value) !== null;
}

export function isLegacyObjectPayload(enc: string): boolean {
	return enc.startsWith(LEGACY_OBJECT_PREFIX) && splitLegacy(enc.slice(LEGACY_OBJECT_PREFIX.length)) !== null;
}

function splitLegacy(value: string): { iv: Buffer; tag: Buffer; ciphertext: Buffer } | null {
	const parts = value.split(':');
	if (parts.length !== 3 || !parts.every((p) => B64.test(p))) return null;
	const [iv, tag, ciphertext] = parts.map((p) => Buffer.from(p, 'base64')) as [Buffer, Buffer, Buffer];
	if ((iv.length !== 12 && iv.length !== 16) || tag.length !== 16) return null;
	return { iv, tag, ciphertext };
}

export function openLegacy(ring: Keyring, value: string): unknown {
	const body = value.startsWith(LEGACY_OBJECT_PREFIX) ? value.slice(LEGACY_OBJECT_PREFIX.length) : value;
	const parts = splitLegacy(body);
	if (!parts) throw new DecryptError('malformed', 'not a legacy iv:authTag:ciphertext value');
	for (const key of ring.all()) {
		try {
			const decipher = createDecipheriv('aes-256-gcm', key.secret, parts.iv, { authTagLength: 16 });
			decipher.setAuthTag(parts.tag);
			const json = Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
			return parseJson(json);
		} catch (error) {
			if (error instanceof DecryptError) throw error;
		}
	}
	throw new DecryptError('authentication-failed', 'legacy value does not open with any configured key');
}
