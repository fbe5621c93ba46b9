import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Argon2id through the `argon2` package that Directus itself ships. The extension is installed
 * outside Directus's node_modules, so the package is resolved from where the running Directus
 * CLI lives (process.argv[1]), falling back to the working directory.
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
	const bases = [process.argv[1], join(process.cwd(), 'index.js')].filter((b): b is string => !!b);
	for (const base of bases) {
		try {
			return createRequire(base)('argon2') as Argon2;
		} catch {
			/* try the next base */
		}
	}
	throw new Error('the argon2 package (shipped with Directus) could not be loaded');
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
