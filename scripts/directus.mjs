// Runs the pinned Directus CLI on the Node that runs this script (Node 22 under npm scripts),
// and installs the built extension where Directus looks for it.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { directusCli, directusVersion } from './directus-host.mjs';
import { root } from './local-env.mjs';

const require = createRequire(import.meta.url);
const pkg = require(join(root, 'package.json'));

export { directusCli, directusVersion };

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
