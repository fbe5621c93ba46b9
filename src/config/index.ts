import { buildKeyring, loadConfig, type CredentialsConfig, type KeyringState } from './env.js';
import { deriveKey } from './kdf.js';
import { BUILT_IN_PROTECTED_FIELDS, ProtectedFields } from '../schema/protected-fields.js';

export * from './env.js';

export interface Runtime {
	config: CredentialsConfig;
	fields: ProtectedFields;
	/** The keyring, built once (a passphrase is derived once, at start). */
	keys: () => Promise<KeyringState>;
	/** Key ids rows use that no configured key has, as found by the start-up key check. */
	missingKeyIds: Set<string>;
}

/**
 * The hook and the endpoint live in one bundle and receive the same env object; parsing it
 * once here means both see one keyring (keys derived once at start, never per value).
 */
const runtimes = new WeakMap<object, Runtime>();

export function runtimeFor(env: Record<string, unknown>): Runtime {
	let runtime = runtimes.get(env);
	if (!runtime) {
		const config = loadConfig(env);
		const keys = buildKeyring(config.keySource, (s) => deriveKey(s.passphrase, s.salt, s));
		runtime = { config, fields: new ProtectedFields([...BUILT_IN_PROTECTED_FIELDS, ...config.extraFields]), keys: () => keys, missingKeyIds: new Set() };
		runtimes.set(env, runtime);
	}
	return runtime;
}
