/** Why a value could not be opened. Messages never include key material or plaintext. */
export type DecryptFailure =
	| 'malformed' // not an envelope of any known format
	| 'unknown-key' // names a key id that is not configured
	| 'authentication-failed' // wrong key, wrong context, or tampered bytes
	| 'not-json' // decrypted, but the plaintext is not the JSON we wrote
	| 'needs-secret'; // Directus's encrypt special: opened only with Directus's SECRET, asynchronously

export class DecryptError extends Error {
	constructor(
		readonly reason: DecryptFailure,
		message: string,
	) {
		super(message);
		this.name = 'DecryptError';
	}
}
