import { isDirectusEncrypted, openDirectusEncrypted } from './directus-encrypt.js';
import { ENVELOPE_PREFIX, openEnvelopeBinding, parseEnvelope, sealValue, type ParsedEnvelope, type ValueContext } from './envelope.js';
import { DecryptError } from './errors.js';
import type { Keyring } from './keyring.js';
import { isLegacyObjectPayload, isLegacyString, openLegacy } from './legacy.js';

/**
 * What a protected column can hold, as read from the database. Text columns hold the bare
 * envelope; JSON columns hold `{ "enc": envelope }` (the seed's object form), because a bare
 * string is not valid JSON for PostgreSQL. SQLite hands JSON columns back as text, so a string
 * that is a JSON object is looked into as well.
 */
export type StoredFormat = 'empty' | 'v2' | 'legacy-string' | 'legacy-object' | 'directus-encrypt' | 'plaintext';

export interface Classified {
	format: StoredFormat;
	/** The encrypted string inside (bare envelope or the `enc` member); absent for empty/plaintext. */
	sealed?: string;
	/** The key id named by a v2 envelope (legacy formats have none). */
	keyId?: string;
	/** A well-formed v2 envelope, parsed: opening it does not parse it again (a third of a rotation's crypto time). */
	parsed?: ParsedEnvelope;
}

export function classifyStored(stored: unknown): Classified {
	if (stored === null || stored === undefined) return { format: 'empty' };
	const enc = encMember(stored);
	if (enc !== undefined) {
		if (enc.startsWith(ENVELOPE_PREFIX)) return v2(enc);
		if (isLegacyObjectPayload(enc)) return { format: 'legacy-object', sealed: enc };
	}
	if (typeof stored === 'string') {
		if (stored.startsWith(ENVELOPE_PREFIX)) return v2(stored);
		if (isLegacyString(stored)) return { format: 'legacy-string', sealed: stored };
		// Directus's own `encrypt` special, left in a field since protected (adopt-encrypt-special re-seals it).
		if (isDirectusEncrypted(stored)) return { format: 'directus-encrypt', sealed: stored };
	}
	return { format: 'plaintext' };
}

function v2(envelope: string): Classified {
	try {
		const parsed = parseEnvelope(envelope);
		return { format: 'v2', sealed: envelope, keyId: parsed.keyId, parsed };
	} catch {
		// Looks like ours but is broken: it is still not plaintext, and must never be stored as such.
		return { format: 'v2', sealed: envelope };
	}
}

function encMember(stored: unknown): string | undefined {
	let value = stored;
	if (typeof value === 'string' && value.startsWith('{') && value.includes('"enc"')) {
		try {
			value = JSON.parse(value);
		} catch {
			return undefined;
		}
	}
	if (value && typeof value === 'object' && !Array.isArray(value)) {
		const keys = Object.keys(value);
		const enc = (value as Record<string, unknown>)['enc'];
		if (keys.length === 1 && typeof enc === 'string') return enc;
	}
	return undefined;
}

/** True when the stored value is ciphertext of any format we know. */
export function isSealed(stored: unknown): boolean {
	const { format } = classifyStored(stored);
	return format !== 'empty' && format !== 'plaintext';
}

/**
 * Decrypts whatever a protected column holds. v2 envelopes must match the context; legacy
 * values carry none and are tried with every key. Plaintext is refused: a protected field
 * that holds plaintext is a finding for `status`, not a value to hand out.
 */
export function openStored(ring: Keyring, stored: unknown, ctx: ValueContext): unknown {
	return openStoredValue(ring, stored, ctx).value;
}

export interface OpenedValue {
	value: unknown;
	/**
	 * Readable but not in today's form: under a previous key, in a legacy format, or bound to an
	 * earlier spelling of the row's key. The next write of the row, or `rotate`, re-seals it.
	 */
	outdated: boolean;
	/** Bound to an earlier spelling of the row's key (sealed before canonical binding). */
	earlierBinding: boolean;
}

/** `classified`: the value's classifyStored, when the caller has it already. */
export function openStoredValue(ring: Keyring, stored: unknown, ctx: ValueContext, classified?: Classified): OpenedValue {
	const c = classified ?? classifyStored(stored);
	switch (c.format) {
		case 'empty':
			return { value: null, outdated: false, earlierBinding: false };
		case 'v2': {
			const opened = openEnvelopeBinding(ring, c.parsed ?? c.sealed!, ctx);
			return { value: opened.value, outdated: !opened.canonical || c.keyId !== ring.current.id, earlierBinding: !opened.canonical };
		}
		case 'legacy-string':
		case 'legacy-object':
			return { value: openLegacy(ring, c.sealed!), outdated: true, earlierBinding: false };
		case 'directus-encrypt':
			// One scrypt derivation per value: only the asynchronous opener below takes it, never a write path.
			throw new DecryptError('needs-secret', "a value of Directus's encrypt special (opened with SECRET by reveals, verify and adopt-encrypt-special)");
		case 'plaintext':
			throw new DecryptError('malformed', 'value is not encrypted');
	}
}

/**
 * openStoredValue, and also a value of Directus's `encrypt` special, given Directus's SECRET: reveals
 * of rows adopt-encrypt-special has not reached yet keep working. Such a value is always outdated.
 * A field that had both the special and our protection holds our envelope inside Directus's: that
 * envelope is opened for this row too.
 */
export async function openStoredValueAsync(ring: Keyring, stored: unknown, ctx: ValueContext, directusSecret: string | null, classified?: Classified): Promise<OpenedValue> {
	const c = classified ?? classifyStored(stored);
	if (c.format !== 'directus-encrypt') return openStoredValue(ring, stored, ctx, c);
	if (!directusSecret) throw new DecryptError('needs-secret', "a value of Directus's encrypt special, not opened here (SECRET is not set, or the field never had the special)");
	const plain = await openDirectusEncrypted(c.sealed!, directusSecret);
	const inner = classifyStored(plain);
	if (inner.format === 'v2') {
		try {
			return { ...openStoredValue(ring, plain, ctx, inner), outdated: true };
		} catch (error) {
			// Only a plaintext that merely looks like an envelope is the value itself; another row's envelope, or one under a key not configured, fails.
			if (!(error instanceof DecryptError) || error.reason !== 'malformed') throw error;
		}
	}
	return { value: plain, outdated: true, earlierBinding: false };
}

/** The column value for an envelope: the bare envelope for text columns, `{ enc }` for JSON ones. */
export const columnForm = (envelope: string, jsonColumn: boolean): string | { enc: string } => (jsonColumn ? { enc: envelope } : envelope);

/** Seals a value into the column value to write (see columnForm). */
export function sealForColumn(ring: Keyring, value: unknown, ctx: ValueContext, jsonColumn: boolean): string | { enc: string } {
	return columnForm(sealValue(ring, value, ctx), jsonColumn);
}
