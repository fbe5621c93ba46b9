import type { z } from 'zod';
import type { FieldStatusAnswer } from '../../contracts/studio.js';

/**
 * Pure text for the Studio components (unit-tested): what `GET /credentials/field-status` and
 * `GET /credentials/status` answered, in words. Nothing here ever sees a value.
 */
export type FieldStatus = Omit<z.infer<typeof FieldStatusAnswer>, 'success'>;

export type Tone = 'normal' | 'success' | 'warning' | 'danger';

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
	['year', 365 * 86400],
	['month', 30 * 86400],
	['week', 7 * 86400],
	['day', 86400],
	['hour', 3600],
	['minute', 60],
];

/** "3 minutes ago", "just now"; English, as the rest of the UI text. */
export function relativeTime(iso: string, now: Date = new Date()): string {
	const seconds = Math.round((new Date(iso).getTime() - now.getTime()) / 1000);
	if (Number.isNaN(seconds)) return 'at an unknown time';
	if (Math.abs(seconds) < 45) return 'just now';
	const format = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
	for (const [unit, size] of UNITS) {
		if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
	}
	return format.format(Math.round(seconds / 60), 'minute');
}

/** "Not set", or "Set · updated 3 minutes ago · key 1a2b3c4d", with the trouble named when there is one. */
export function describeFieldStatus(status: FieldStatus, now: Date = new Date()): { text: string; tone: Tone } {
	if (!status.set) return { text: 'Not set', tone: 'normal' };
	const parts = ['Set'];
	if (status.updated_at) parts.push(`updated ${relativeTime(status.updated_at, now)}`);
	if (status.key_id) parts.push(`key ${status.key_id}`);
	if (status.format === 'legacy') parts.push('legacy format');
	if (status.format === 'directus-encrypt') parts.push("Directus's encrypt format, not adopted yet");
	if (status.format === 'plaintext') parts.push('stored unencrypted');
	if (status.decryptable === false) parts.push('undecryptable');
	const tone: Tone = status.decryptable === false || status.format === 'plaintext' ? 'danger' : status.format === 'legacy' || status.format === 'directus-encrypt' ? 'warning' : 'success';
	return { text: parts.join(' · '), tone };
}

/**
 * Why the stored value can be neither replaced nor cleared, or null: the server refuses both (409) while
 * the key its envelope names is not configured — the write would destroy the only copy nobody can read.
 */
export function blockedText(status: FieldStatus | null): string | null {
	if (status?.key_configured !== false) return null;
	return `Sealed under key ${status.key_id}, which is not configured: it can be neither replaced nor cleared until that key is back in CREDENTIALS_ENC_PREVIOUS_KEYS_B64.`;
}

/** A replacement typed into the JSON editor: a JSON object or array, or the reason it is not one. */
export function parseJsonDraft(text: string): { ok: true; value: object } | { ok: false; error: string } {
	if (text.trim() === '') return { ok: false, error: 'Enter a JSON object' };
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		// Not the parser's message: it quotes the text, which is the secret being typed.
		return { ok: false, error: 'Not valid JSON: check the quotes, commas and brackets' };
	}
	if (value === null || typeof value !== 'object') return { ok: false, error: 'Enter a JSON object or array, not a single value' };
	return { ok: true, value };
}
