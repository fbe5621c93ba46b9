import type { Knex } from 'knex';
import { directKey, loadConfig, type CredentialsConfig, type KeyringState } from './env.js';
import { deriveKey } from './kdf.js';
import { BUILT_IN_PROTECTED_FIELDS, ProtectedFields } from '../schema/protected-fields.js';
import { markedFields } from '../schema/field-registry.js';
import { KeyHierarchy, KEYS_UNAVAILABLE } from '../keys/hierarchy.js';
import { safeMessage } from '../lib/error-message.js';
import { kekProviderFor, KekUnavailableError, type KekProvider } from '../keys/kek.js';

export * from './env.js';

interface Logger {
	error(message: string): void;
	info(message: string): void;
}

export interface Runtime {
	config: CredentialsConfig;
	fields: ProtectedFields;
	/** The keyring as last loaded (a passphrase is derived once, wrapped keys unwrapped once, at start). */
	keys: () => Promise<KeyringState>;
	/** Key ids that rows use but no configured key has, as found by the start-up key check. */
	missingKeyIds: Set<string>;
	/** The configured key ids, once the keyring is built (null before, or when it cannot be). */
	keyIds: ReadonlySet<string> | null;
	/** The environment's keys and the wrapped ones in the database. */
	hierarchy: KeyHierarchy;
	/** The KEK provider, opened once when first needed (null when data keys are not wrapped). */
	kek: () => Promise<KekProvider | null>;
	/** The hook hands over Directus's database: the keyring is loaded from it (wrapped keys live there). */
	attach(database: Knex, logger: Logger): void;
	/** Reads the wrapped keys again; the keyring changes when they did (promoted, added, rewrapped elsewhere). */
	reload(): Promise<KeyringState>;
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
	const direct = directKey(config.keySource, (s) => deriveKey(s.passphrase, s.salt, s));
	let provider: Promise<KekProvider | null> | null = null;
	const open = () =>
		Promise.resolve()
			.then(() => kekProviderFor(config.kek))
			.catch((error: unknown) => {
				// Opened again next time when that may help (a token plugged back in); never after a refused PIN.
				if (!(error instanceof KekUnavailableError) || error.retriable) provider = null;
				throw error;
			});
	const kek = async () => {
		const opened = await (provider ??= open());
		if (opened && !opened.usable()) {
			// The session or device was lost: the keys already unwrapped stay; new ones need a new session.
			void opened.close();
			return (provider = open());
		}
		return opened;
	};
	const source = config.keySource;
	const hierarchy = new KeyHierarchy(
		{
			previous: source.kind === 'invalid' ? [] : source.previous,
			currentName: source.kind === 'passphrase' ? 'the key derived from CREDENTIALS_MASTER_PASSPHRASE' : 'CREDENTIALS_ENC_KEY_B64',
		},
		kek,
		config.kek.kind === 'none' ? null : config.kek.kind,
		config.kek.kind === 'pkcs11' ? config.kek.tokenLabel : null,
	);
	let attached: (value: { database: Knex; logger: Logger }) => void;
	const attachment = new Promise<{ database: Knex; logger: Logger }>((resolve) => (attached = resolve));

	const load = async (): Promise<KeyringState> => {
		const found = await direct;
		// The environment's own problem (an invalid key, a passphrase that cannot be derived) is not one a reload mends.
		if (!found.ok) return found;
		const { database, logger } = await attachment;
		let loaded: Awaited<ReturnType<KeyHierarchy['load']>>;
		try {
			loaded = await hierarchy.load(database, found.key);
		} catch (error) {
			// The database could not be read: the keyring stays as it was (at start: none, until a reload reads it).
			logger.error(`[credentials] data keys could not be read: ${safeMessage(error)}`);
			return (await previous) ?? { ok: false, error: KEYS_UNAVAILABLE };
		}
		const { state, changed, detail } = loaded;
		if (detail) logger.error(`[credentials] wrapped data keys: ${detail}`);
		if (changed && state.ok) runtime.keyIds = new Set(state.ring.all().map((key) => key.id));
		return state;
	};
	let previous: Promise<KeyringState | null> = Promise.resolve(null);
	// Loaded when first asked (a request, the start-up check, a CLI command that needs keys): a CLI command that
	// needs none must not race its own exit with a read of the keys table.
	let current: Promise<KeyringState> | null = null;

	const runtime: Runtime = {
		config,
		fields: new ProtectedFields([...BUILT_IN_PROTECTED_FIELDS, ...config.extraFields], markedFields),
		keys: () => (current ??= load()),
		missingKeyIds: new Set(),
		keyIds: null,
		hierarchy,
		kek,
		attach: (database, logger) => attached({ database, logger }),
		reload: async () => {
			previous = current ?? Promise.resolve(null);
			await previous;
			const next = await load();
			current = Promise.resolve(next);
			return next;
		},
	};
	return runtime;
}
