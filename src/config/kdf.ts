import { requireFromHost } from '../lib/host-require.js';

/**
 * Argon2id through the `argon2` package that Directus itself ships, resolved from the Directus
 * project (the extension is installed outside Directus's node_modules).
 */
export interface KdfOptions {
	memoryKiB: number;
	iterations: number;
}

type Argon2 = {
	hash(password: string, options: Record<string, unknown>): Promise<Buffer>;
	argon2id: number;
};

function loadArgon2(): Argon2 {
	try {
		return requireFromHost<Argon2>('argon2');
	} catch {
		throw new Error('the argon2 package (shipped with Directus) could not be loaded');
	}
}

export async function deriveKey(passphrase: string, salt: Buffer, options: KdfOptions): Promise<Buffer> {
	const argon2 = loadArgon2();
	return argon2.hash(passphrase, {
		type: argon2.argon2id,
		raw: true,
		salt,
		memoryCost: options.memoryKiB,
		timeCost: options.iterations,
		parallelism: 1,
		hashLength: 32,
	});
}
