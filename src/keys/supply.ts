import type { Knex } from 'knex';
import type { KeyringState } from '../crypto/index.js';
import { safeMessage } from '../lib/error-message.js';
import { KeyHierarchy, KEYS_UNAVAILABLE } from './hierarchy.js';
import { kekProviderFor } from './kek.js';
import { KekUnavailableError, type KekConfig, type KekProvider } from './provider.js';
import type { Logger as FullLogger } from '../lib/logger.js';

type Logger = Pick<FullLogger, 'error' | 'info'>;

/** The key from the environment (raw, or derived from a passphrase once), null when it has none, or why it is unusable. */
export type DirectKey = { ok: true; key: Buffer | null } | { ok: false; error: string };

export interface KeySupplyOptions {
	direct: Promise<DirectKey>;
	/** The environment's previous keys, and what to call its current key in messages. */
	previous: Buffer[];
	currentName: string;
	kek: KekConfig;
	/** Told the key ids of each keyring built (the plaintext guard below the services reads them synchronously). */
	onKeyIds(ids: ReadonlySet<string>): void;
	/** Opens the provider the configuration names (replaced in unit tests). */
	openProvider?: () => KekProvider | null;
}

/** The keyring as the hook, the endpoint and the CLI share it. */
export interface KeySupply {
	/** The keyring as last loaded (a passphrase is derived once, wrapped keys unwrapped once, at start). */
	keys: () => Promise<KeyringState>;
	/** The environment's keys and the wrapped ones in the database. */
	hierarchy: KeyHierarchy;
	/** The KEK provider, opened once when first needed (null when data keys are not wrapped). */
	kek: () => Promise<KekProvider | null>;
	/** Directus's database, handed over by the hook (and the endpoint): the wrapped keys live there. */
	attach(database: Knex, logger: Logger): void;
	/** Reads the wrapped keys again; the keyring changes when they did (promoted, added, rewrapped elsewhere). */
	reload(): Promise<KeyringState>;
}

/**
 * Loads the keyring when first asked (a request, the start-up check, a CLI command that needs keys: a CLI
 * command that needs none must not race its own exit with a read of the keys table) and again on reload.
 * The KEK provider is opened once, and again only when that may help: after a lost session or a token
 * that was missing, never after a refused PIN (tokens lock a PIN after a few wrong tries).
 */
export function keySupply(options: KeySupplyOptions): KeySupply {
	let provider: Promise<KekProvider | null> | null = null;
	const open = () =>
		Promise.resolve()
			.then(() => (options.openProvider ?? (() => kekProviderFor(options.kek)))())
			.catch((error: unknown) => {
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
	const hierarchy = new KeyHierarchy(
		{ previous: options.previous, currentName: options.currentName },
		kek,
		options.kek.kind === 'none' ? null : options.kek.kind,
		options.kek.kind === 'pkcs11' ? options.kek.tokenLabel : null,
	);
	let attached: (value: { database: Knex; logger: Logger }) => void;
	const attachment = new Promise<{ database: Knex; logger: Logger }>((resolve) => (attached = resolve));
	let previous: Promise<KeyringState | null> = Promise.resolve(null);
	let current: Promise<KeyringState> | null = null;

	const load = async (): Promise<KeyringState> => {
		const found = await options.direct;
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
		if (changed && state.ok) options.onKeyIds(new Set(state.ring.all().map((key) => key.id)));
		return state;
	};

	return {
		keys: () => (current ??= load()),
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
}
