/**
 * The key-encryption key that wraps data keys (opt-in). `local`: KEKs from the environment, named by
 * their fingerprint, for development and tests of the hierarchy; new wraps use the first.
 */
export type KekConfig =
	| { kind: 'none' }
	| { kind: 'local'; keks: Buffer[] }
	/** A KEK inside a PKCS#11 token: the module (the vendor's library), the token and the KEK for new wraps by label, and the user PIN. */
	| { kind: 'pkcs11'; module: string; tokenLabel: string; kekLabel: string; pin: string }
	| { kind: 'invalid'; error: string };

/**
 * A key-encryption key provider: wraps and unwraps data keys by a KEK's label, never handing the KEK
 * out. Unwrapping happens when keys are loaded (start, or a key added elsewhere), never per value.
 */
export interface KekProvider {
	readonly kind: 'local' | 'pkcs11';
	/** What an operator needs to recognise the provider (no secret): shown by status. */
	readonly description: string;
	/** The KEK that wraps a first data key when none is named. */
	readonly defaultLabel: string;
	wrap(label: string, raw: Buffer, dataKeyId: string): Promise<string>;
	unwrap(label: string, wrapped: string, dataKeyId: string): Promise<Buffer>;
	/** False once the provider has lost its connection (a PKCS#11 session closed, the device gone): open a new one. */
	usable(): boolean;
	close(): Promise<void>;
}

/** The provider's own failures: the message names what is missing, never a key or PIN. */
export class KekUnavailableError extends Error {
	/**
	 * Whether opening the provider again may help (a token plugged back in). Not after a refused PIN:
	 * tokens lock a PIN after a few wrong tries, so it is never tried again until the process restarts.
	 */
	constructor(
		message: string,
		readonly retriable = true,
	) {
		super(message);
		this.name = 'KekUnavailableError';
	}
}
