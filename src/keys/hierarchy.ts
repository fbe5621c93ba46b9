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

/** The answer's reason when the hierarchy fails: token and label details go to the log and the admins' status, a PIN nowhere. */
export const KEYS_UNAVAILABLE = 'keys unavailable';

/**
 * Data keys: the environment's, and the wrapped ones in the database, unwrapped by the KEK provider and
 * kept in process memory only. Loaded at start and again when the rows change (another instance or the
 * CLI added, promoted or rewrapped one); a key already unwrapped is never unwrapped again, so losing the
 * token after start changes nothing until restart. At start any wrapped key that does not unwrap fails
 * closed (and is tried again at the next load: a token plugged back in is found); later, a new key that
 * does not unwrap stays out of the keyring (and out of what this instance reports, so it cannot be promoted).
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

	/**
	 * What this instance tells `keys promote` it reads: the wrapped keys of the rows its keyring was last
	 * built from that it holds unwrapped. Not a key unwrapped while the keyring was kept as it was (the
	 * current key did not open here), and not one that did not open. A pending key counts before any key is
	 * current (a setup with no key in the environment: the first key must be read before it is promoted).
	 */
	unwrappedIds(): string[] {
		return this.rows.filter((r) => this.raw.has(r.keyId)).map((r) => r.keyId).sort();
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
	 * went wrong in words for the log — only when that changed since the last load, so a poll that meets the
	 * same problem again does not repeat it. Rows that did not all unwrap are read again at the next load.
	 */
	async load(db: Knex, directCurrent: Buffer | null): Promise<{ state: KeyringState; changed: boolean; detail: string | null }> {
		const rows = await readWrappedKeys(db);
		const signature = rows.map((r) => `${r.keyId}:${r.kek}:${r.state}`).join('|');
		if (this.state && signature === this.signature) return { state: this.state, changed: false, detail: null };
		const failures = await this.unwrapMissing(rows);
		const problem = failures.length > 0 ? failures.join('; ') : null;
		const detail = problem !== this.problem ? problem : null;
		this.problem = problem;
		const unreadable = rows.filter((r) => !this.raw.has(r.keyId));
		// Settled only when every row opened; otherwise the next load tries the rest again (a token back, a session reopened).
		this.signature = unreadable.length === 0 ? signature : null;
		const serving = this.state?.ok ? this.state : null;
		if (unreadable.length > 0 && !serving) {
			// At start (or while failed): every wrapped key must open, or nothing is served.
			this.rows = rows;
			this.state = { ok: false, error: KEYS_UNAVAILABLE };
			return { state: this.state, changed: true, detail };
		}
		if (unreadable.some((r) => r.state === 'current')) {
			// Promoted elsewhere while this instance cannot open it: keep serving with what it has.
			return { state: serving!, changed: false, detail };
		}
		// Keys that did not open here (new, pending) stay out of the keyring, and out of what this instance reports.
		this.rows = rows;
		this.state = this.build(rows.filter((r) => this.raw.has(r.keyId)), directCurrent);
		return { state: this.state, changed: true, detail };
	}

	/** Unwraps the rows not yet in memory; returns what failed, in words (never a key or PIN). */
	private async unwrapMissing(rows: WrappedKeyRow[]): Promise<string[]> {
		const missing = rows.filter((r) => !this.raw.has(r.keyId));
		if (missing.length === 0) return [];
		let provider: KekProvider | null;
		try {
			provider = await this.provider();
		} catch (error) {
			return [safeMessage(error)];
		}
		if (!provider) return [`${missing.length} data key(s) in credentials_keys are wrapped, but CREDENTIALS_KEK_PROVIDER is not set`];
		const failures: string[] = [];
		for (const row of missing) {
			try {
				this.raw.set(row.keyId, await provider.unwrap(row.kek, row.wrapped, row.keyId));
			} catch (error) {
				failures.push(`data key ${row.keyId} (wrapped by "${row.kek}"): ${safeMessage(error)}`);
			}
		}
		return failures;
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
