// A Directus installed from a lockfile with --ignore-scripts (the Directus 11 host, the install test's
// project) needs its native addons built for the Node 22 that runs Directus here (npm builds against the
// system Node's headers; see PLATFORM). Where this checkout holds the very same version, already built and
// loading on this Node, its build is copied instead: a build from source costs about a minute each on 2 cores.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Each addon and what its build leaves that its package loads (isolated-vm's `out/`, sqlite3's N-API module). */
const BUILDS = { 'isolated-vm': 'out', sqlite3: 'build/Release/node_sqlite3.node' };

const versionIn = (base, name) => {
	const file = join(base, 'node_modules', name, 'package.json');
	return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : null;
};

/**
 * Copies `root`'s build of each addon into `dir` where the versions match and root's loads on this Node
 * (the one running this: Node 22 under npm scripts and vitest); returns the addons `dir` must still rebuild.
 */
export function reuseBuiltAddons(root, dir, addons = Object.keys(BUILDS)) {
	return addons.filter((name) => {
		const version = versionIn(root, name);
		if (version === null || version !== versionIn(dir, name)) return true;
		if (spawnSync(process.execPath, ['-e', `require(${JSON.stringify(name)})`], { cwd: root, stdio: 'ignore' }).status !== 0) return true;
		const build = BUILDS[name];
		cpSync(join(root, 'node_modules', name, build), join(dir, 'node_modules', name, build), { recursive: true });
		return false;
	});
}
