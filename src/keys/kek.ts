import { createSecretKey } from 'node:crypto';
import { keyId, unwrapLocally, wrapLocally } from '../crypto/index.js';
import type { KekConfig } from '../config/env.js';

/**
 * A key-encryption key provider: wraps and unwraps data keys by a KEK's label, never handing the KEK
 * out. Unwrapping happens when keys are loaded (start, or a key added elsewhere), never per value.
 */
export interface KekProvider {
	readonly kind: 'local';
	/** What an operator needs to recognise the provider (no secret): shown by status. */
	readonly description: string;
	/** The KEK that wraps a first data key when none is named. */
	readonly defaultLabel: string;
	wrap(label: string, raw: Buffer, dataKeyId: string): Promise<string>;
	unwrap(label: string, wrapped: string, dataKeyId: string): Promise<Buffer>;
	close(): Promise<void>;
}

/** The provider's own failures: the message names what is missing, never a key or PIN. */
export class KekUnavailableError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'KekUnavailableError';
	}
}

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
		close: async () => undefined,
	};
}

/** The provider a configuration names; null when data keys are not wrapped. */
export function kekProviderFor(config: KekConfig): KekProvider | null {
	if (config.kind === 'none') return null;
	if (config.kind === 'invalid') throw new KekUnavailableError(config.error);
	return localKekProvider(config.keks);
}
