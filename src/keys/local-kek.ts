import { createSecretKey } from 'node:crypto';
import { keyId, unwrapLocally, wrapLocally } from '../crypto/index.js';
import { KekUnavailableError, type KekProvider } from './provider.js';

/** KEKs from the environment, each named by its fingerprint (the same 8-hex id data keys have). */
export function localKekProvider(keks: readonly Buffer[]): KekProvider {
	const byLabel = new Map(keks.map((raw) => [keyId(raw), createSecretKey(Buffer.from(raw))]));
	const find = (label: string) => {
		const kek = byLabel.get(label);
		if (!kek) throw new KekUnavailableError(`the key-encryption key "${label}" is not in CREDENTIALS_KEK_LOCAL_B64`);
		return kek;
	};
	return {
		kind: 'local',
		description: `local (${[...byLabel.keys()].join(', ')})`,
		defaultLabel: [...byLabel.keys()][0]!,
		wrap: async (label, raw, dataKeyId) => wrapLocally(find(label), raw, dataKeyId),
		unwrap: async (label, wrapped, dataKeyId) => unwrapLocally(find(label), wrapped, dataKeyId),
		usable: () => true,
		close: async () => undefined,
	};
}
