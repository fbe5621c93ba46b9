import { describe, expect, it } from 'vitest';
import { attentionText, encryptedText, kekText, type KeyHealthReport } from '../../src/app/shared/key-health-text.js';
import { blockedText, describeFieldStatus, parseJsonDraft, relativeTime } from '../../src/app/shared/status-text.js';

const now = new Date('2026-11-24T12:00:00Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();

describe('the interface status line', () => {
	it('says "Not set" for an empty field', () => {
		expect(describeFieldStatus({ set: false, format: null, key_id: null, key_configured: null, decryptable: null, updated_at: null }, now)).toEqual({ text: 'Not set', tone: 'normal' });
	});

	it('names when it changed and which key protects it', () => {
		const status = { set: true, format: 'cred:v2', key_id: '1a2b3c4d', key_configured: true, decryptable: true, updated_at: ago(180) } as const;
		expect(describeFieldStatus(status, now)).toEqual({ text: 'Set · updated 3 minutes ago · key 1a2b3c4d', tone: 'success' });
	});

	it('flags legacy, plaintext and undecryptable values', () => {
		expect(describeFieldStatus({ set: true, format: 'legacy', key_id: null, key_configured: null, decryptable: true, updated_at: null }, now)).toEqual({ text: 'Set · legacy format', tone: 'warning' });
		expect(describeFieldStatus({ set: true, format: 'plaintext', key_id: null, key_configured: null, decryptable: null, updated_at: null }, now).tone).toBe('danger');
		expect(describeFieldStatus({ set: true, format: 'cred:v2', key_id: 'ffffffff', key_configured: true, decryptable: false, updated_at: null }, now)).toEqual({
			text: 'Set · key ffffffff · undecryptable',
			tone: 'danger',
		});
	});

	it('says why Replace and Clear are disabled while the value\'s key is not configured, and only then', () => {
		const missing = { set: true, format: 'cred:v2', key_id: 'deadbeef', key_configured: false, decryptable: false, updated_at: null } as const;
		expect(blockedText(missing)).toBe(
			'Sealed under key deadbeef, which is not configured: it can be neither replaced nor cleared until that key is back in CREDENTIALS_ENC_PREVIOUS_KEYS_B64.',
		);
		expect(blockedText({ ...missing, key_configured: true })).toBeNull();
		expect(blockedText({ ...missing, key_id: null, key_configured: null, format: 'legacy' })).toBeNull();
		expect(blockedText(null)).toBeNull();
	});

	it('writes relative times in English', () => {
		expect(relativeTime(ago(10), now)).toBe('just now');
		expect(relativeTime(ago(3600), now)).toBe('1 hour ago');
		expect(relativeTime(ago(86400), now)).toBe('yesterday');
		expect(relativeTime(ago(30 * 86400), now)).toBe('last month');
		expect(relativeTime('not a date', now)).toBe('at an unknown time');
	});
});

describe('the JSON editor', () => {
	it('accepts objects and arrays', () => {
		expect(parseJsonDraft('{"api_key":"k"}')).toEqual({ ok: true, value: { api_key: 'k' } });
		expect(parseJsonDraft('[1]')).toEqual({ ok: true, value: [1] });
	});

	it('refuses text that is not a JSON object without quoting it back', () => {
		const secret = 'sk-live-do-not-echo';
		const result = parseJsonDraft(`{"api_key": ${secret}}`);
		expect(result.ok).toBe(false);
		expect(JSON.stringify(result)).not.toContain(secret);
		expect(parseJsonDraft('"just a string"')).toEqual({ ok: false, error: 'Enter a JSON object or array, not a single value' });
		expect(parseJsonDraft('   ').ok).toBe(false);
	});
});

describe('the key-health panel warning', () => {
	const report = (field: Partial<KeyHealthReport['fields'][number]>): KeyHealthReport => ({
		keys: { current: 'aaaaaaaa', previous: ['bbbbbbbb'] },
		kek: { provider: null, token: null, wrapped: [], problem: null },
		fields: [{ field: 'c.f', rows: 0, empty: 0, byKeyId: {}, legacy: 0, directusEncrypt: 0, earlierBinding: 0, plaintext: 0, undecryptable: 0, verifiedAt: '2026-11-27T10:00:00.000Z', missingKeyIds: [], ...field }],
		missingKeyIds: [],
	});

	it('is silent when every value is under the current key', () => {
		expect(attentionText(report({ rows: 3, byKeyId: { aaaaaaaa: 3 } }))).toBeNull();
	});

	it('counts what needs rotation or migration', () => {
		const text = attentionText(report({ rows: 6, byKeyId: { aaaaaaaa: 1, bbbbbbbb: 2 }, legacy: 1, plaintext: 1, undecryptable: 1 }));
		expect(text).toContain('1 undecryptable');
		expect(text).toContain('1 stored unencrypted');
		expect(text).toContain('1 in a legacy format');
		expect(text).toContain('2 under a previous key');
		expect(text).toContain('credentials rotate');
	});

	it("names values left by Directus's encrypt special and the command that adopts them", () => {
		expect(attentionText(report({ rows: 2, directusEncrypt: 2 }))).toContain("2 still in Directus's encrypt format (run `credentials adopt-encrypt-special`)");
	});

	it('reports what its Encrypt button did', () => {
		expect(encryptedText('c.f', { sealed: 1, remaining: 0 })).toBe('Encrypted 1 value of c.f.');
		expect(encryptedText('c.f', { sealed: 3, remaining: 1 })).toBe('Encrypted 3 values of c.f. 1 stored unencrypted meanwhile: encrypt again.');
	});

	it('says when a field with values was never verified, and not for an empty one', () => {
		const never = { earlierBinding: null, undecryptable: null, verifiedAt: null };
		expect(attentionText(report({ rows: 3, byKeyId: { aaaaaaaa: 3 }, ...never }))).toContain('1 field never verified (run `credentials verify`)');
		expect(attentionText(report({ rows: 2, empty: 2, ...never }))).toBeNull();
	});

	it('names values bound to an earlier spelling of their key, which rotate re-seals', () => {
		const text = attentionText(report({ rows: 2, byKeyId: { aaaaaaaa: 2 }, earlierBinding: 2 }));
		expect(text).toContain("2 bound to an earlier spelling of their row's key");
		expect(text).toContain('credentials rotate');
	});
});

describe('the key-health panel’s key hierarchy line', () => {
	const base: KeyHealthReport = { keys: { current: 'aaaaaaaa', previous: [] }, kek: { provider: null, token: null, wrapped: [], problem: null }, fields: [], missingKeyIds: [] };

	it('is absent while keys come from the environment only', () => {
		expect(kekText(base)).toBeNull();
	});

	it('names the provider, each wrapped key’s state and KEK, what this instance could not unwrap, and why', () => {
		const kek = {
			provider: 'pkcs11',
			token: 'creds',
			wrapped: [
				{ keyId: 'aaaaaaaa', kek: 'kek-2', state: 'current' as const, unwrapped: true },
				{ keyId: 'bbbbbbbb', kek: 'kek-3', state: 'pending' as const, unwrapped: false },
			],
			problem: 'data key bbbbbbbb (wrapped by "kek-3"): no key labelled "kek-3" on token "creds"',
		};
		expect(kekText({ ...base, kek })).toBe(
			'Data keys wrapped by a pkcs11 KEK (token creds): aaaaaaaa current (KEK kek-2), bbbbbbbb pending (KEK kek-3, NOT unwrapped here). Problem: data key bbbbbbbb (wrapped by "kek-3"): no key labelled "kek-3" on token "creds"',
		);
		expect(kekText({ ...base, kek: { provider: 'local', token: null, wrapped: [], problem: null } })).toBe('Data keys wrapped by a local KEK: none yet (run `credentials keys init`)');
	});
});
