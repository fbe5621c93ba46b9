import type { KeyringState } from '../config/env.js';
import type { Keyring } from '../crypto/index.js';
import { KeysUnavailableError } from '../errors.js';
import type { ProtectedFields } from '../schema/protected-fields.js';

/** What protecting a write needs: the keyring, the protected-field policy, and the key ids rows use but no key has. */
export interface WriteDeps {
	keys: () => Promise<KeyringState>;
	fields: ProtectedFields;
	/** Key ids that rows use but no configured key has (found at start); empty in a healthy system. */
	missingKeyIds: () => ReadonlySet<string>;
}

export async function requireRing(deps: WriteDeps): Promise<Keyring> {
	const state = await deps.keys();
	if (!state.ok) throw new KeysUnavailableError({ reason: state.error });
	return state.ring;
}
