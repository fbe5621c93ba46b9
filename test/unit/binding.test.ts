import { describe, expect, it } from 'vitest';
import { boundKey, earlierBindings, keySpellings, openEnvelope, openEnvelopeBinding, openStoredValue, sealValue, DecryptError } from '../../src/crypto/index.js';
import { protectCreate } from '../../src/hook/handlers/protect-on-write.js';
import { protectValue } from '../../src/protection/codec.js';
import type { WriteDeps } from '../../src/protection/deps.js';
import { ProtectedFields } from '../../src/schema/protected-fields.js';
import { rawKey, ring, sealWithBinding } from './helpers.js';

const LOWER = 'd799099f-a905-413d-9058-a420766226de';
const UPPER = LOWER.toUpperCase();
const MIXED = 'D799099f-A905-413d-9058-a420766226DE';
const at = (pk: string | number) => ({ collection: 'platform_connections', field: 'encrypted_credentials', pk });

describe('the canonical binding of a primary key', () => {
	it('is the lower-case form of a UUID in any case, and String(pk) for anything else', () => {
		expect(boundKey(UPPER)).toBe(LOWER);
		expect(boundKey(MIXED)).toBe(LOWER);
		expect(boundKey(LOWER)).toBe(LOWER);
		expect(boundKey(42)).toBe('42');
		expect(boundKey('Row-ABC')).toBe('Row-ABC');
		// Not a UUID (braces, missing group): kept exactly as it is.
		expect(boundKey(`{${UPPER}}`)).toBe(`{${UPPER}}`);
		expect(boundKey(UPPER.slice(0, 35))).toBe(UPPER.slice(0, 35));
	});

	it('lists the earlier spellings to try for a UUID only: upper case, then as given', () => {
		expect(earlierBindings(LOWER)).toEqual([UPPER]);
		expect(earlierBindings(UPPER)).toEqual([UPPER]);
		expect(earlierBindings(MIXED)).toEqual([UPPER, MIXED]);
		expect(earlierBindings('Row-ABC')).toEqual([]);
		expect(earlierBindings(7)).toEqual([]);
	});

	it('lists every spelling a case-sensitive database may hold a UUID under', () => {
		expect(keySpellings(MIXED)).toEqual([MIXED, LOWER, UPPER]);
		expect(keySpellings(LOWER)).toEqual([LOWER, UPPER]);
		expect(keySpellings('Row-ABC')).toEqual(['Row-ABC']);
	});
});

describe('envelopes bound to the canonical key', () => {
	it('open with any spelling of the same UUID', () => {
		const r = ring();
		const sealed = sealValue(r, { password: 'p' }, at(UPPER));
		for (const spelling of [LOWER, UPPER, MIXED]) expect(openEnvelopeBinding(r, sealed, at(spelling))).toEqual({ value: { password: 'p' }, canonical: true });
	});

	it('still never open for another row', () => {
		const r = ring();
		const sealed = sealValue(r, 'x', at(UPPER));
		expect(() => openEnvelope(r, sealed, at('d799099f-a905-413d-9058-a420766226df'))).toThrow(DecryptError);
		expect(() => openEnvelope(r, sealed, at(42))).toThrow(DecryptError);
	});

	it('values sealed the old way (upper-case or as-typed binding) open, and say they need re-sealing', () => {
		const key = rawKey();
		const r = ring(key);
		const upperBound = sealWithBinding(key, 'old', at(UPPER), UPPER);
		expect(openEnvelopeBinding(r, upperBound, at(LOWER))).toEqual({ value: 'old', canonical: false });
		expect(openEnvelopeBinding(r, upperBound, at(UPPER))).toEqual({ value: 'old', canonical: false });
		// MariaDB and SQLite keep a mixed-case key as typed: the row's own spelling is tried too.
		const mixedBound = sealWithBinding(key, 'old', at(MIXED), MIXED);
		expect(openEnvelopeBinding(r, mixedBound, at(MIXED)).canonical).toBe(false);
		expect(openStoredValue(r, upperBound, at(LOWER))).toEqual({ value: 'old', outdated: true, earlierBinding: true });
		expect(openStoredValue(r, sealValue(r, 'new', at(LOWER)), at(UPPER))).toEqual({ value: 'new', outdated: false, earlierBinding: false });
	});

	it('a non-UUID key has no earlier spelling: a value bound to another string is foreign', () => {
		const key = rawKey();
		const r = ring(key);
		expect(() => openEnvelope(r, sealWithBinding(key, 'x', at('row-a'), 'ROW-A'), at('row-a'))).toThrow(DecryptError);
	});

	it('the write path re-seals an envelope bound the old way, canonically, and keeps a canonical one as it is', () => {
		const key = rawKey();
		const r = ring(key);
		const old = sealWithBinding(key, { p: 1 }, at(LOWER), UPPER);
		const resealed = protectValue(r, old, at(LOWER), false) as string;
		expect(resealed).not.toBe(old);
		expect(openEnvelopeBinding(r, resealed, at(LOWER))).toEqual({ value: { p: 1 }, canonical: true });
		const current = sealValue(r, { p: 2 }, at(LOWER));
		expect(protectValue(r, current, at(UPPER), false)).toBe(current);
	});
});

describe('creating a row with an upper-case UUID', () => {
	const deps = (r: ReturnType<typeof ring>): WriteDeps => ({
		keys: async () => ({ ok: true, ring: r }),
		fields: new ProtectedFields([{ collection: 'platform_connections', field: 'encrypted_credentials' }]),
		missingKeyIds: () => new Set(),
	});

	it('stores the key in its canonical form and binds the value to it', async () => {
		const r = ring();
		const payload = await protectCreate(deps(r), { id: UPPER, encrypted_credentials: { p: 1 } }, 'platform_connections', { schema: null, accountability: null });
		expect(payload['id']).toBe(LOWER);
		expect(openEnvelopeBinding(r, payload['encrypted_credentials'] as string, at(LOWER))).toEqual({ value: { p: 1 }, canonical: true });
	});

	it('also without the secret, and leaves other collections and non-UUID keys alone', async () => {
		const d = deps(ring());
		expect((await protectCreate(d, { id: MIXED, platform: 'x' }, 'platform_connections', { schema: null, accountability: null }))['id']).toBe(LOWER);
		expect((await protectCreate(d, { id: UPPER }, 'other_collection', { schema: null, accountability: null }))['id']).toBe(UPPER);
		expect((await protectCreate(d, { id: 'Row-ABC' }, 'platform_connections', { schema: null, accountability: null }))['id']).toBe('Row-ABC');
	});
});
