import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * A package the bundle cannot carry (native addons: argon2, pkcs11js), required from the Directus project
 * that runs the extension: from where the running Directus CLI lives (process.argv[1]), then from the
 * working directory. The error kept is the most telling one: a package found but not loadable (built for
 * another Node) says more than one not found.
 */
export function requireFromHost<T>(name: string): T {
	const bases = [process.argv[1], join(process.cwd(), 'index.js')].filter((b): b is string => !!b);
	let notFound: unknown = new Error(`Cannot find module '${name}'`);
	for (const base of bases) {
		try {
			return createRequire(base)(name) as T;
		} catch (error) {
			if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
			notFound = error;
		}
	}
	throw notFound;
}
