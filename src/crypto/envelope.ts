import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { DecryptError } from './errors.js';
import { boundKey, earlierBindings } from './binding.js';
import type { Keyring } from './keyring.js';

/**
 * Envelope format, version 2 (version 1 is the seed's `{ enc: "v1:..." }`):
 *
 *   cred:v2:<keyId>:<iv>:<tag>:<ciphertext>        (iv, tag, ciphertext base64url, no padding)
 *
 * AES-256-GCM, random 96-bit IV, 128-bit tag. The additional authenticated data binds the
 * version, the key id and the value's place (collection, field, primary key), so a ciphertext
 * copied to another row, field or collection — or relabelled with another key id — fails.
 * The plaintext is JSON, so any JSON value round-trips with its type.
 */
export const ENVELOPE_PREFIX = 'cred:v2:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const B64URL_CHARS = /^[A-Za-z0-9_-]*$/;
const KEY_ID = /^[0-9a-f]{8}$/;
/** A key id's length: eight lower-case hex digits. */
export const KEY_ID_CHARS = 8;
/** An envelope's head: its prefix, the key id and the `:` after it (what a count by key id reads). */
export const ENVELOPE_HEAD_CHARS = ENVELOPE_PREFIX.length + KEY_ID_CHARS + 1;

/** Where a value lives. The primary key is part of it (in its canonical form): every row gets its own binding. */
export interface ValueContext {
	collection: string;
	field: string;
	pk: string | number;
}

export interface ParsedEnvelope {
	keyId: string;
	iv: Buffer;
	tag: Buffer;
	ciphertext: Buffer;
}

/** `bound` is the key's spelling in the binding: the canonical form, except when opening an older value. */
export function additionalData(keyId: string, ctx: ValueContext, bound = boundKey(ctx.pk)): Buffer {
	// JSON array encoding is unambiguous whatever characters the names contain.
	return Buffer.from(JSON.stringify(['cred', 2, keyId, ctx.collection, ctx.field, bound]), 'utf8');
}

/** A key id as envelopes spell it: eight lower-case hex digits. */
export const isKeyId = (value: string): boolean => KEY_ID.test(value);

/**
 * The key id an envelope names in its prefix (`cred:v2:<keyId>:`), whether or not the rest is
 * well formed: what a count by key id goes by. Whether it opens is for verify to say.
 */
export function namedKeyId(envelope: string): string | undefined {
	const keyId = envelope.slice(ENVELOPE_PREFIX.length, ENVELOPE_PREFIX.length + KEY_ID_CHARS);
	return envelope.startsWith(ENVELOPE_PREFIX) && envelope[ENVELOPE_HEAD_CHARS - 1] === ':' && KEY_ID.test(keyId) ? keyId : undefined;
}

export function isEnvelopeString(value: unknown): value is string {
	return typeof value === 'string' && value.startsWith(ENVELOPE_PREFIX);
}

export function parseEnvelope(envelope: string): ParsedEnvelope {
	const parts = envelope.slice(ENVELOPE_PREFIX.length).split(':');
	if (!envelope.startsWith(ENVELOPE_PREFIX) || parts.length !== 4) {
		throw new DecryptError('malformed', 'not a cred:v2 envelope');
	}
	const [keyId, iv, tag, ciphertext] = parts as [string, string, string, string];
	if (!KEY_ID.test(keyId) || !B64URL_CHARS.test(iv) || !B64URL_CHARS.test(tag)) {
		throw new DecryptError('malformed', 'envelope has invalid characters');
	}
	const parsed = {
		keyId,
		iv: Buffer.from(iv, 'base64url'),
		tag: Buffer.from(tag, 'base64url'),
		ciphertext: decodeExact(ciphertext),
	};
	if (parsed.iv.length !== IV_BYTES || parsed.tag.length !== TAG_BYTES) {
		throw new DecryptError('malformed', 'envelope has a wrong IV or tag length');
	}
	return parsed;
}

/**
 * Strict base64url for the (possibly large) ciphertext without a regex pass over it: Node skips
 * characters outside the alphabet, so any such character shows as fewer decoded bytes.
 */
function decodeExact(part: string): Buffer {
	const bytes = Buffer.from(part, 'base64url');
	if (part.length % 4 === 1 || bytes.length !== Math.floor((part.length * 3) / 4)) {
		throw new DecryptError('malformed', 'envelope has invalid characters');
	}
	return bytes;
}

/**
 * IVs come from a pool of CSPRNG bytes filled 4 KiB at a time: one randomBytes call per value cost
 * about a third of a rotation's crypto time. Each IV is a fresh slice, never handed out twice (GCM
 * needs them unique, and random 96-bit IVs are that with overwhelming probability). The slice is
 * only read synchronously, before the pool can be refilled.
 */
const IV_POOL = Buffer.alloc(IV_BYTES * 341);
let ivOffset = IV_POOL.length;

function nextIv(): Buffer {
	if (ivOffset + IV_BYTES > IV_POOL.length) {
		randomFillSync(IV_POOL);
		ivOffset = 0;
	}
	const iv = IV_POOL.subarray(ivOffset, ivOffset + IV_BYTES);
	ivOffset += IV_BYTES;
	return iv;
}

export function sealValue(ring: Keyring, value: unknown, ctx: ValueContext): string {
	const json = JSON.stringify(value);
	if (json === undefined) throw new TypeError('value is not JSON-serialisable');
	return sealPlaintext(ring, json, ctx);
}

/** Seals JSON text (or its UTF-8 bytes, as openEnvelopeBytes returns them) under the current key, bound to this row. */
export function sealPlaintext(ring: Keyring, json: string | Buffer, ctx: ValueContext): string {
	const { id, secret } = ring.current;
	const iv = nextIv();
	const cipher = createCipheriv('aes-256-gcm', secret, iv, { authTagLength: TAG_BYTES });
	cipher.setAAD(additionalData(id, ctx));
	// GCM is a stream mode: update returns every byte, final none (only the tag is computed there).
	const ciphertext = typeof json === 'string' ? cipher.update(json, 'utf8') : cipher.update(json);
	cipher.final();
	const tag = cipher.getAuthTag();
	return `${ENVELOPE_PREFIX}${id}:${iv.toString('base64url')}:${tag.toString('base64url')}:${ciphertext.toString('base64url')}`;
}

/** Opens a v2 envelope for exactly this row and field; throws DecryptError otherwise. */
export function openEnvelope(ring: Keyring, envelope: string, ctx: ValueContext): unknown {
	return openEnvelopeBinding(ring, envelope, ctx).value;
}

export interface OpenedEnvelope {
	value: unknown;
	/** False when the value was sealed before canonical binding, under another spelling of the key: re-seal it. */
	canonical: boolean;
}

/**
 * Opens a v2 envelope bound to the canonical form of the row's key, or — for values sealed
 * before that form was fixed — to an earlier spelling of the same key (upper case, or as given).
 * The spellings tried all name this one row, so no other row's value can open here. Takes the
 * envelope as text or already parsed (classifyStored parses it to learn its key id).
 */
export function openEnvelopeBinding(ring: Keyring, envelope: string | ParsedEnvelope, ctx: ValueContext): OpenedEnvelope {
	const { plain, canonical } = openEnvelopeBytes(ring, envelope, ctx);
	return { value: parseJson(plain.toString('utf8')), canonical };
}

/**
 * openEnvelopeBinding's plaintext as the UTF-8 bytes of its JSON, not parsed: what re-sealing needs
 * (rotate hands them to sealPlaintext as they are — about a quarter less work per value than parsing and
 * serialising them again). Only sealValue's own JSON authenticates, so these bytes are that JSON.
 */
export function openEnvelopeBytes(ring: Keyring, envelope: string | ParsedEnvelope, ctx: ValueContext): { plain: Buffer; canonical: boolean } {
	const parsed = typeof envelope === 'string' ? parseEnvelope(envelope) : envelope;
	const key = ring.byId(parsed.keyId);
	if (!key) throw new DecryptError('unknown-key', `value is encrypted under key ${parsed.keyId}, which is not configured`);
	const plain = decrypt(key.secret, parsed, additionalData(parsed.keyId, ctx));
	if (plain !== null) return { plain, canonical: true };
	for (const spelling of earlierBindings(ctx.pk)) {
		const earlier = decrypt(key.secret, parsed, additionalData(parsed.keyId, ctx, spelling));
		if (earlier !== null) return { plain: earlier, canonical: false };
	}
	throw new DecryptError('authentication-failed', 'value does not authenticate for this row and field');
}

/** The plaintext bytes, or null when the tag does not authenticate under this key and binding. */
function decrypt(secret: Keyring['current']['secret'], parsed: ParsedEnvelope, aad: Buffer): Buffer | null {
	try {
		const decipher = createDecipheriv('aes-256-gcm', secret, parsed.iv, { authTagLength: TAG_BYTES });
		decipher.setAAD(aad);
		decipher.setAuthTag(parsed.tag);
		const plain = decipher.update(parsed.ciphertext);
		decipher.final(); // throws unless the tag authenticates; returns no bytes in GCM
		return plain;
	} catch {
		return null;
	}
}

export function parseJson(json: string): unknown {
	try {
		return JSON.parse(json);
	} catch {
		throw new DecryptError('not-json', 'decrypted value is not JSON');
	}
}
