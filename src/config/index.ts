import { environmentKeys, loadConfig, type CredentialsConfig } from './env.js';
import { deriveKey } from './kdf.js';
import { BUILT_IN_PROTECTED_FIELDS, ProtectedFields } from '../schema/protected-fields.js';
import { markedFields } from '../schema/field-registry.js';
import { keySupply, type KeySupply } from '../keys/supply.js';

export * from './env.js';

/** The parsed configuration, the protected-field policy, and the keyring they share (keys/supply.ts). */
export interface Runtime extends KeySupply {
	config: CredentialsConfig;
	fields: ProtectedFields;
	/** Key ids that rows use but no configured key has, as found by the start-up key check. */
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
	if (!runtime) runtimes.set(env, (runtime = newRuntime(loadConfig(env))));
	return runtime;
}

function newRuntime(config: CredentialsConfig): Runtime {
	const runtime: Runtime = {
		config,
		fields: new ProtectedFields([...BUILT_IN_PROTECTED_FIELDS, ...config.extraFields], markedFields),
		missingKeyIds: new Set(),
		keyIds: null,
		...keySupply({
			...environmentKeys(config.keySource, (s) => deriveKey(s.passphrase, s.salt, s)),
			kek: config.kek,
			onKeyIds: (ids) => (runtime.keyIds = ids),
		}),
	};
	return runtime;
}
