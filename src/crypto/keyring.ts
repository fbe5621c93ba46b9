import { createHash, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** A 256-bit AES key and the short fingerprint that names it inside envelopes. */
export interface Key {
	readonly id: string;
	readonly secret: KeyObject;
}

/** One current key for writes, any number of previous keys that are only read. */
export interface Keyring {
	readonly current: Key;
	readonly previous: readonly Key[];
	byId(id: string): Key | undefined;
	all(): readonly Key[];
}

export const KEY_BYTES = 32;

/**
 * The key id is a fingerprint, never the key: 8 hex chars of SHA-256 over a
 * domain-separated input, so it cannot be reused as a hash of the key anywhere else.
 */
export function keyId(raw: Buffer): string {
	return createHash('sha256').update('directus-extension-credentials:key-id:').update(raw).digest('hex').slice(0, 8);
}

export function makeKey(raw: Buffer): Key {
	if (raw.length !== KEY_BYTES) throw new RangeError(`key must be ${KEY_BYTES} bytes, got ${raw.length}`);
	return { id: keyId(raw), secret: createSecretKey(Buffer.from(raw)) };
}

/**
 * Two different keys whose ids collide (32-bit fingerprints: about one in 4 billion pairs) cannot
 * both be named inside envelopes. Where each was given: `current`, or the index among the previous.
 */
export class KeyIdCollisionError extends Error {
	constructor(
		readonly id: string,
		readonly first: 'current' | number,
		readonly second: number,
	) {
		super(`two different keys share the key id ${id}`);
		this.name = 'KeyIdCollisionError';
	}
}

export function makeKeyring(currentRaw: Buffer, previousRaw: readonly Buffer[] = []): Keyring {
	const current = makeKey(currentRaw);
	const previous: Key[] = [];
	const byId = new Map<string, Key>([[current.id, current]]);
	const given = new Map<string, { raw: Buffer; at: 'current' | number }>([[current.id, { raw: currentRaw, at: 'current' }]]);
	previousRaw.forEach((raw, index) => {
		const key = makeKey(raw);
		const earlier = given.get(key.id);
		if (earlier && !timingSafeEqual(earlier.raw, raw)) throw new KeyIdCollisionError(key.id, earlier.at, index);
		if (earlier) return; // the same key listed twice is harmless
		given.set(key.id, { raw, at: index });
		byId.set(key.id, key);
		previous.push(key);
	});
	return {
		current,
		previous,
		byId: (id) => byId.get(id),
		all: () => [current, ...previous],
	};
}

/** A keyring, or the one clear reason there is none. Never both. */
export type KeyringState = { ok: true; ring: Keyring } | { ok: false; error: string };

/** Names for where each key of a keyring came from, for a key id collision's message. */
export interface KeyNames {
	current: string;
	previous: (index: number) => string;
}

/** A keyring, or the collision named in words (never a key). */
export function keyringOf(current: Buffer, previous: readonly Buffer[], names: KeyNames): KeyringState {
	try {
		return { ok: true, ring: makeKeyring(current, previous) };
	} catch (error) {
		if (!(error instanceof KeyIdCollisionError)) throw error;
		const where = (at: 'current' | number) => (at === 'current' ? names.current : names.previous(at));
		return { ok: false, error: `${where(error.first)} and ${where(error.second)} are different keys with the same key id ${error.id}: keep one and generate a different key for the other` };
	}
}
