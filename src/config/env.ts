import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { KekConfig } from '../keys/provider.js';
import type { DirectKey } from '../keys/supply.js';

export type { KeyringState } from '../crypto/index.js';
export type { KekConfig } from '../keys/provider.js';

/**
 * The extension's configuration, parsed once from Directus's env. Directus casts env values
 * (a comma list may arrive as an array, digits as a number), so every input is normalised
 * back to a string first.
 */
const text = z.preprocess((v) => {
	if (v === undefined || v === null || v === '') return undefined;
	if (Array.isArray(v)) return v.map(String).join(',');
	return String(v);
}, z.string().trim().optional());

const EnvSchema = z.object({
	CREDENTIALS_ENC_KEY_B64: text,
	CREDENTIALS_ENC_PREVIOUS_KEYS_B64: text,
	RBAC_SYNC_WEBHOOK_SECRET: text,
	CREDENTIALS_ENCRYPTED_FIELDS: text,
	CREDENTIALS_MASTER_PASSPHRASE: text,
	CREDENTIALS_KDF_SALT_B64: text,
	CREDENTIALS_KDF_MEMORY_KIB: text,
	CREDENTIALS_KDF_ITERATIONS: text,
	CREDENTIALS_FAILED_ATTEMPTS_PER_MINUTE: text,
	CREDENTIALS_KEK_PROVIDER: text,
	CREDENTIALS_KEK_LOCAL_B64: text,
	CREDENTIALS_KEYS_POLL_SECONDS: text,
	CREDENTIALS_PKCS11_MODULE: text,
	CREDENTIALS_PKCS11_TOKEN_LABEL: text,
	CREDENTIALS_PKCS11_KEK_LABEL: text,
	CREDENTIALS_PKCS11_PIN: text,
	CREDENTIALS_PKCS11_PIN_FILE: text,
});
type RawEnv = z.infer<typeof EnvSchema>;

/** Where the current key comes from: given raw, or derived from a passphrase with Argon2id. */
export type KeySource =
	| { kind: 'raw'; current: Buffer; previous: Buffer[] }
	| { kind: 'passphrase'; passphrase: string; salt: Buffer; memoryKiB: number; iterations: number; previous: Buffer[] }
	| { kind: 'invalid'; error: string }
	/** No key in the environment: the current key must come from the wrapped data keys (a KEK is configured). */
	| { kind: 'none'; previous: Buffer[] };

export interface CredentialsConfig {
	keySource: KeySource;
	kek: KekConfig;
	/** How often an instance looks for data keys added, promoted or rewrapped elsewhere. */
	keysPollMs: number;
	/** Unset means the server-secret routes are closed with a 500, as in the seed. */
	serverSecret: string | undefined;
	/** Fields added by the operator, as `collection.field`. */
	extraFields: { collection: string; field: string }[];
	/** Problems with the configuration that do not concern keys (reported, never fatal). */
	warnings: string[];
	/** Failed server-route attempts an address may make per minute before they answer 429. */
	failedAttemptsPerMinute: number;
	/**
	 * Directus's SECRET: opens values its `encrypt` special wrote (reveals of rows not yet adopted, and
	 * adopt-encrypt-special). Unset, Directus uses a random one per process, which opens nothing stored.
	 */
	directusSecret: string | null;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const FIELD_REF = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

function decodeKey(value: string): Buffer | null {
	if (!B64.test(value) && !B64URL.test(value)) return null;
	const raw = Buffer.from(value, B64.test(value) ? 'base64' : 'base64url');
	return raw.length === 32 ? raw : null;
}

const DEFAULT_KDF_MEMORY_KIB = 256 * 1024; // 256 MiB, as in the seed vault
const DEFAULT_KDF_ITERATIONS = 3;

const positiveInt = (value: string | undefined, fallback: number) => {
	if (value === undefined) return fallback;
	return /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : NaN;
};

export function loadKeySource(env: RawEnv): KeySource {
	const previous: Buffer[] = [];
	for (const item of (env.CREDENTIALS_ENC_PREVIOUS_KEYS_B64 ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
		const raw = decodeKey(item);
		if (!raw) return { kind: 'invalid', error: 'CREDENTIALS_ENC_PREVIOUS_KEYS_B64 is invalid' };
		previous.push(raw);
	}
	if (env.CREDENTIALS_MASTER_PASSPHRASE) {
		// Two sources for one key is ambiguous; refusing is safer than guessing which one was meant.
		if (env.CREDENTIALS_ENC_KEY_B64) return { kind: 'invalid', error: 'CREDENTIALS_ENC_KEY_B64 and CREDENTIALS_MASTER_PASSPHRASE are both set: set only one' };
		if (!env.CREDENTIALS_KDF_SALT_B64) return { kind: 'invalid', error: 'CREDENTIALS_KDF_SALT_B64 not set' };
		const salt = B64.test(env.CREDENTIALS_KDF_SALT_B64) || B64URL.test(env.CREDENTIALS_KDF_SALT_B64) ? Buffer.from(env.CREDENTIALS_KDF_SALT_B64, 'base64') : null;
		if (!salt || salt.length < 16) return { kind: 'invalid', error: 'CREDENTIALS_KDF_SALT_B64 is invalid (at least 16 bytes, base64)' };
		const memoryKiB = positiveInt(env.CREDENTIALS_KDF_MEMORY_KIB, DEFAULT_KDF_MEMORY_KIB);
		const iterations = positiveInt(env.CREDENTIALS_KDF_ITERATIONS, DEFAULT_KDF_ITERATIONS);
		if (!(memoryKiB >= 8 * 1024)) return { kind: 'invalid', error: 'CREDENTIALS_KDF_MEMORY_KIB is invalid (at least 8192)' };
		if (!(iterations >= 1)) return { kind: 'invalid', error: 'CREDENTIALS_KDF_ITERATIONS is invalid' };
		return { kind: 'passphrase', passphrase: env.CREDENTIALS_MASTER_PASSPHRASE, salt, memoryKiB, iterations, previous };
	}
	if (!env.CREDENTIALS_ENC_KEY_B64) return env.CREDENTIALS_KEK_PROVIDER ? { kind: 'none', previous } : { kind: 'invalid', error: 'CREDENTIALS_ENC_KEY_B64 not set' };
	const current = decodeKey(env.CREDENTIALS_ENC_KEY_B64);
	if (!current) return { kind: 'invalid', error: 'CREDENTIALS_ENC_KEY_B64 is invalid' };
	return { kind: 'raw', current, previous };
}

/** The PIN as given, or read from its file (Directus reads `_FILE` only for its own variables); one trailing newline dropped. */
function pinOf(env: RawEnv, readFile: (path: string) => string): { pin: string } | { error: string } {
	if (env.CREDENTIALS_PKCS11_PIN && env.CREDENTIALS_PKCS11_PIN_FILE) return { error: 'CREDENTIALS_PKCS11_PIN and CREDENTIALS_PKCS11_PIN_FILE are both set: set only one' };
	if (env.CREDENTIALS_PKCS11_PIN) return { pin: env.CREDENTIALS_PKCS11_PIN };
	if (!env.CREDENTIALS_PKCS11_PIN_FILE) return { error: 'CREDENTIALS_PKCS11_PIN (or CREDENTIALS_PKCS11_PIN_FILE) not set' };
	try {
		const pin = readFile(env.CREDENTIALS_PKCS11_PIN_FILE).replace(/\r?\n$/, '');
		return pin ? { pin } : { error: 'the file in CREDENTIALS_PKCS11_PIN_FILE is empty' };
	} catch {
		return { error: 'the file in CREDENTIALS_PKCS11_PIN_FILE could not be read' };
	}
}

export function loadKekConfig(env: RawEnv, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): KekConfig {
	const provider = env.CREDENTIALS_KEK_PROVIDER;
	if (!provider) return { kind: 'none' };
	if (provider === 'pkcs11') {
		for (const name of ['CREDENTIALS_PKCS11_MODULE', 'CREDENTIALS_PKCS11_TOKEN_LABEL', 'CREDENTIALS_PKCS11_KEK_LABEL'] as const) {
			if (!env[name]) return { kind: 'invalid', error: `${name} not set` };
		}
		const pin = pinOf(env, readFile);
		if ('error' in pin) return { kind: 'invalid', error: pin.error };
		return { kind: 'pkcs11', module: env.CREDENTIALS_PKCS11_MODULE!, tokenLabel: env.CREDENTIALS_PKCS11_TOKEN_LABEL!, kekLabel: env.CREDENTIALS_PKCS11_KEK_LABEL!, pin: pin.pin };
	}
	if (provider !== 'local') return { kind: 'invalid', error: `CREDENTIALS_KEK_PROVIDER "${provider}" is not one of: pkcs11, local` };
	const keks: Buffer[] = [];
	for (const item of (env.CREDENTIALS_KEK_LOCAL_B64 ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
		const raw = decodeKey(item);
		if (!raw) return { kind: 'invalid', error: 'CREDENTIALS_KEK_LOCAL_B64 is invalid (32-byte keys, base64, comma-separated)' };
		keks.push(raw);
	}
	if (keks.length === 0) return { kind: 'invalid', error: 'CREDENTIALS_KEK_LOCAL_B64 not set' };
	return { kind: 'local', keks };
}

/** The key of a direct source (raw, or derived from a passphrase once, here); null when the environment has none. */
export async function directKey(source: KeySource, derive: (s: Extract<KeySource, { kind: 'passphrase' }>) => Promise<Buffer>): Promise<DirectKey> {
	if (source.kind === 'invalid') return { ok: false, error: source.error };
	if (source.kind === 'none') return { ok: true, key: null };
	if (source.kind === 'raw') return { ok: true, key: source.current };
	try {
		return { ok: true, key: await derive(source) };
	} catch {
		return { ok: false, error: 'CREDENTIALS_MASTER_PASSPHRASE could not be turned into a key (argon2 unavailable)' };
	}
}

/**
 * The environment's keys as the key hierarchy takes them (keys/supply.ts): the current one (derived from a
 * passphrase once, here), the previous ones, and what messages call the current one. The hierarchy builds
 * the keyring from these and the wrapped keys in the database.
 */
export function environmentKeys(source: KeySource, derive: (s: Extract<KeySource, { kind: 'passphrase' }>) => Promise<Buffer>) {
	return {
		direct: directKey(source, derive),
		previous: source.kind === 'invalid' ? [] : source.previous,
		currentName: source.kind === 'passphrase' ? 'the key derived from CREDENTIALS_MASTER_PASSPHRASE' : 'CREDENTIALS_ENC_KEY_B64',
	};
}

const DEFAULT_FAILED_ATTEMPTS_PER_MINUTE = 30;
const DEFAULT_KEYS_POLL_SECONDS = 5;

export function loadConfig(env: Record<string, unknown>): CredentialsConfig {
	const parsed = EnvSchema.parse(env);
	const warnings: string[] = [];
	const extraFields: CredentialsConfig['extraFields'] = [];
	for (const ref of (parsed.CREDENTIALS_ENCRYPTED_FIELDS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
		const match = FIELD_REF.exec(ref);
		if (match) extraFields.push({ collection: match[1]!, field: match[2]! });
		else warnings.push(`CREDENTIALS_ENCRYPTED_FIELDS: "${ref}" is not collection.field; ignored`);
	}
	const attempts = Number(parsed.CREDENTIALS_FAILED_ATTEMPTS_PER_MINUTE ?? DEFAULT_FAILED_ATTEMPTS_PER_MINUTE);
	if (!Number.isInteger(attempts) || attempts < 1) warnings.push(`CREDENTIALS_FAILED_ATTEMPTS_PER_MINUTE must be a whole number from 1; using ${DEFAULT_FAILED_ATTEMPTS_PER_MINUTE}`);
	const pollSeconds = Number(parsed.CREDENTIALS_KEYS_POLL_SECONDS ?? DEFAULT_KEYS_POLL_SECONDS);
	if (!(pollSeconds >= 0.1 && pollSeconds <= 3600)) warnings.push(`CREDENTIALS_KEYS_POLL_SECONDS must be a number from 0.1 to 3600; using ${DEFAULT_KEYS_POLL_SECONDS}`);
	return {
		keySource: loadKeySource(parsed),
		kek: loadKekConfig(parsed),
		keysPollMs: 1000 * (pollSeconds >= 0.1 && pollSeconds <= 3600 ? pollSeconds : DEFAULT_KEYS_POLL_SECONDS),
		serverSecret: parsed.RBAC_SYNC_WEBHOOK_SECRET,
		extraFields,
		warnings,
		failedAttemptsPerMinute: Number.isInteger(attempts) && attempts >= 1 ? attempts : DEFAULT_FAILED_ATTEMPTS_PER_MINUTE,
		// Exactly as Directus hands it to its own encrypt (not trimmed: a space would be part of the key).
		directusSecret: env['SECRET'] === undefined || env['SECRET'] === null || env['SECRET'] === '' ? null : String(env['SECRET']),
	};
}
