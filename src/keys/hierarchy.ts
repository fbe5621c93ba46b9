import type { Knex } from 'knex';
import type { z } from 'zod';
import type { KeyHierarchyView } from '../contracts/studio.js';
import { keyringOf, type KeyringState } from '../crypto/index.js';
import type { KekProvider } from './kek.js';
import { readWrappedKeys, type WrappedKeyRow } from './store.js';
import { safeMessage } from '../lib/error-message.js';

/** The environment's previous keys, and what to call its current key (CREDENTIALS_ENC_KEY_B64 or the passphrase's) in messages. */
export interface DirectKeys {
	previous: Buffer[];
	currentName: string;
}

/** What a keyring was built from, for status (contracts/studio.ts): never a key, only ids, KEK labels and states. */
export type HierarchyView = z.infer<typeof KeyHierarchyView>;

/** The public reason when the hierarchy fails: token, label and PIN details go to the log only. */
export const KEYS_UNAVAILABLE = 'keys unavailable';

/**
 * Data keys: the environment's, and the wrapped ones in the database, unwrapped by the KEK provider and
 * kept in process memory only. Loaded at start and again when the rows change (another instance or the
 * CLI added, promoted or rewrapped one); a key already unwrapped is never unwrapped again, so losing the
 * token after start changes nothing until restart. At start any wrapped key that does not unwrap fails
 * closed; later, a new key that does not unwrap leaves the keyring as it was (and this instance does not
 * report it read, so it cannot be promoted).
 */
export class KeyHierarchy {
	private readonly raw = new Map<string, Buffer>();
	private rows: WrappedKeyRow[] = [];
	private signature: string | null = null;
	private problem: string | null = null;
	private state: KeyringState | null = null;

	constructor(
		private readonly direct: DirectKeys,
		private readonly provider: () => Promise<KekProvider | null>,
		private readonly providerName: string | null,
		private readonly token: string | null = null,
	) {}

	/** The wrapped keys this instance holds unwrapped. */
	unwrappedIds(): string[] {
		return [...this.raw.keys()].sort();
	}

	view(): HierarchyView {
		return {
			provider: this.providerName,
			token: this.token,
			wrapped: this.rows.map((r) => ({ keyId: r.keyId, kek: r.kek, state: r.state, unwrapped: this.raw.has(r.keyId) })),
			problem: this.problem,
		};
	}

	/**
	 * Reads the rows; rebuilds the keyring when they changed. Returns the keyring and, in `detail`, what
	 * went wrong in words for the log (null when nothing did).
	 */
	async load(db: Knex, directCurrent: Buffer | null): Promise<{ state: KeyringState; changed: boolean; detail: string | null }> {
		const rows = await readWrappedKeys(db);
		const signature = rows.map((r) => `${r.keyId}:${r.kek}:${r.state}`).join('|');
		if (this.state && signature === this.signature) return { state: this.state, changed: false, detail: null };
		const starting = this.state === null;
		const failures: string[] = [];
		const missing = rows.filter((r) => !this.raw.has(r.keyId));
		if (missing.length > 0) {
			let provider: KekProvider | null = null;
			try {
				provider = await this.provider();
				if (!provider) failures.push(`${missing.length} data key(s) in credentials_keys are wrapped, but CREDENTIALS_KEK_PROVIDER is not set`);
			} catch (error) {
				failures.push(safeMessage(error));
			}
			for (const row of provider ? missing : []) {
				try {
					this.raw.set(row.keyId, await provider!.unwrap(row.kek, row.wrapped, row.keyId));
				} catch (error) {
					failures.push(`data key ${row.keyId} (wrapped by "${row.kek}"): ${safeMessage(error)}`);
				}
			}
		}
		const detail = failures.length > 0 ? failures.join('; ') : null;
		if (detail && starting) {
			this.problem = detail;
			this.rows = rows;
			this.state = { ok: false, error: KEYS_UNAVAILABLE };
			this.signature = signature;
			return { state: this.state, changed: true, detail };
		}
		if (detail && this.state) {
			// After start: keep serving with what opened before; the rows are read again next time.
			this.problem = detail;
			return { state: this.state, changed: false, detail };
		}
		this.problem = null;
		this.rows = rows;
		this.signature = signature;
		this.state = this.build(rows, directCurrent);
		return { state: this.state, changed: true, detail: null };
	}

	private build(rows: WrappedKeyRow[], directCurrent: Buffer | null): KeyringState {
		const current = rows.find((r) => r.state === 'current');
		const wrappedOthers = rows.filter((r) => r !== current).map((r) => ({ raw: this.raw.get(r.keyId)!, name: `the wrapped data key ${r.keyId}` }));
		const environment = [
			...(directCurrent ? [{ raw: directCurrent, name: this.direct.currentName }] : []),
			...this.direct.previous.map((raw, i) => ({ raw, name: `entry ${i + 1} of CREDENTIALS_ENC_PREVIOUS_KEYS_B64` })),
		];
		const first = current ? { raw: this.raw.get(current.keyId)!, name: `the wrapped data key ${current.keyId}` } : environment.shift();
		if (!first) return { ok: false, error: 'no data key yet: run `npx directus credentials keys init`' };
		const previous = [...environment, ...wrappedOthers];
		return keyringOf(first.raw, previous.map((p) => p.raw), { current: first.name, previous: (i) => previous[i]!.name });
	}
}
