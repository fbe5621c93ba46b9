/**
 * A machine identity's token, made in the browser: the same shape as the server's (`cid_` and 256 random
 * bits, base64url), from the Web Crypto CSPRNG. The hook accepts only this shape on create and stores its digest.
 */
export function newBrowserToken(random: (bytes: Uint8Array) => Uint8Array = (bytes) => crypto.getRandomValues(bytes)): string {
	const bytes = random(new Uint8Array(32));
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return 'cid_' + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Whether the form holds a token generated here (not yet saved: a saved one is a digest). */
export const isBrowserToken = (value: unknown): value is string => typeof value === 'string' && /^cid_[A-Za-z0-9_-]{43}$/.test(value);
