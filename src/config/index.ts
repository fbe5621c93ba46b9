import { buildKeyring, loadConfig, type CredentialsConfig, type KeyringState } from './env.js';
import { deriveKey } from './kdf.js';
import { BUILT_IN_PROTECTED_FIELDS, ProtectedFields } from '../schema/protected-fields.js';
import { markedFields } from '../schema/field-registry.js';

export * from './env.js';

export interface Runtime {
	config: CredentialsConfig;
	fields: ProtectedFields;
	/** The keyring, built once (a passphrase is derived once, at start). */
	keys: () => Promise<KeyringState>;
	/** Key ids rows use that no configured key has, as found by the start-up key check. */
	missingKeyIds: Set<string>;
	/** The configured key ids, once the keyring is built (null before, or when it cannot be). */
	keyIds: ReadonlySet<string> | null;
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
		const built: Runtime = { config, fields: new ProtectedFields([...BUILT_IN_PROTECTED_FIELDS, ...config.extraFields], markedFields), keys: () => keys, missingKeyIds: new Set(), keyIds: null };
		// The database guard runs synchronously below knex: it needs the ids without awaiting.
		void keys.then((state) => {
			if (state.ok) built.keyIds = new Set(state.ring.all().map((key) => key.id));
		});
		runtimes.set(env, (runtime = built));
	}
	return runtime;
}
