import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { KEY_BYTES, keyId } from './keyring.js';

/**
 * Data keys wrapped by a local key-encryption key (KEK): AES-256-GCM over the 32 raw bytes, the AAD
 * naming the data key's id, so a wrapped key copied onto another key's row does not unwrap there:
 * `dkw1:` + base64url(iv ‖ ciphertext ‖ tag). A PKCS#11 token wraps with RFC 5649 instead (`kwp1:`,
 * keys/pkcs11-kek.ts), which has no AAD: there `checkUnwrapped` is the binding (a key id is a hash of
 * the key, so bytes from another row's blob never match this row's id).
 */
const PREFIX = 'dkw1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const newDataKey = (): Buffer => randomBytes(KEY_BYTES);

/** The AAD of a data key's wrapping: domain, version and its id. */
export const dataKeyAad = (dataKeyId: string) => Buffer.from(`directus-extension-credentials:data-key:v1:${dataKeyId}`, 'utf8');

export interface WrappedParts {
	iv: Buffer;
	ciphertext: Buffer;
	tag: Buffer;
}

export const packWrapped = ({ iv, ciphertext, tag }: WrappedParts) => PREFIX + Buffer.concat([iv, ciphertext, tag]).toString('base64url');

export class UnwrapError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'UnwrapError';
	}
}

export function unpackWrapped(wrapped: string): WrappedParts {
	if (typeof wrapped !== 'string' || !wrapped.startsWith(PREFIX)) throw new UnwrapError('not a wrapped data key');
	const bytes = Buffer.from(wrapped.slice(PREFIX.length), 'base64url');
	if (bytes.length !== IV_BYTES + KEY_BYTES + TAG_BYTES) throw new UnwrapError('a wrapped data key has the wrong length');
	return { iv: bytes.subarray(0, IV_BYTES), ciphertext: bytes.subarray(IV_BYTES, IV_BYTES + KEY_BYTES), tag: bytes.subarray(IV_BYTES + KEY_BYTES) };
}

/** Unwrapped bytes are the key the row names, or nothing: a KEK that "opens" another key's blob is caught here too. */
export function checkUnwrapped(raw: Buffer, dataKeyId: string): Buffer {
	if (raw.length !== KEY_BYTES || keyId(raw) !== dataKeyId) throw new UnwrapError(`the data key ${dataKeyId} unwrapped to other bytes`);
	return raw;
}

export function wrapLocally(kek: KeyObject, raw: Buffer, dataKeyId: string): string {
	const iv = randomBytes(IV_BYTES);
	const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
	cipher.setAAD(dataKeyAad(dataKeyId));
	const ciphertext = Buffer.concat([cipher.update(raw), cipher.final()]);
	return packWrapped({ iv, ciphertext, tag: cipher.getAuthTag() });
}

export function unwrapLocally(kek: KeyObject, wrapped: string, dataKeyId: string): Buffer {
	const { iv, ciphertext, tag } = unpackWrapped(wrapped);
	const decipher = createDecipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
	decipher.setAAD(dataKeyAad(dataKeyId));
	decipher.setAuthTag(tag);
	let raw: Buffer;
	try {
		raw = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
	} catch {
		throw new UnwrapError(`the data key ${dataKeyId} does not unwrap under this key-encryption key`);
	}
	return checkUnwrapped(raw, dataKeyId);
}
