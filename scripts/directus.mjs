// Runs the pinned Directus CLI on the Node that runs this script (Node 22 under npm scripts),
// and installs the built extension where Directus looks for it.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { root } from './local-env.mjs';

const require = createRequire(import.meta.url);
const pkg = require(join(root, 'package.json'));

/**
 * The Directus that tests and the benchmark run: this checkout's (12), or the one installed in the folder
 * CREDENTIALS_DIRECTUS_HOST names (test/hosts/directus-11: the Directus 11 smoke run), through that
 * folder's own cli.mjs, so that Directus and everything it resolves come from there.
 */
const hostDir = process.env.CREDENTIALS_DIRECTUS_HOST ? resolve(root, process.env.CREDENTIALS_DIRECTUS_HOST) : null;
export const directusCli = hostDir ? join(hostDir, 'cli.mjs') : join(root, 'scripts', 'directus-cli.mjs');
export const directusVersion = createRequire(hostDir ? join(hostDir, 'package.json') : import.meta.url)('directus/package.json').version;

/**
 * Copies package.json and dist/ into <extensionsPath>/<package name>/ — this checkout's, or those of the
 * build at CREDENTIALS_EXTENSION_BUILD (bench/against.sh measures another commit's build with this
 * checkout's benchmark).
 */
export function installExtension(extensionsPath) {
	const from = process.env.CREDENTIALS_EXTENSION_BUILD ?? root;
	const target = join(extensionsPath, pkg.name);
	rmSync(target, { recursive: true, force: true });
	mkdirSync(target, { recursive: true });
	cpSync(join(from, 'package.json'), join(target, 'package.json'));
	cpSync(join(from, 'dist'), join(target, 'dist'), { recursive: true });
	return target;
}

export function spawnDirectus(args, env, options = {}) {
	return spawn(process.execPath, [directusCli, ...args], { env, stdio: 'inherit', ...options });
}

export function runDirectus(args, env, options = {}) {
	return new Promise((resolvePromise, reject) => {
		const child = spawnDirectus(args, env, options);
		child.on('error', reject);
		child.on('exit', (code, signal) =>
			code === 0 ? resolvePromise() : reject(new Error(`directus ${args.join(' ')} exited with ${signal ?? code}`)),
		);
	});
}
