// The registry this project installs from lacks some platform-only optional packages (for example
// @rolldown/binding-darwin-arm64@1.1.8, wanted by vite 8). `npm install` then leaves them out of
// package-lock.json, and `npm ci` refuses the lock as "Missing: … from lock file". This adds an
// entry for each missing optional dependency, copying os/cpu/libc from another version of the same
// package in the lock; npm ci skips them on this platform, as it would with complete entries.
// Run it after any `npm install` that rewrites the lock: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';
import semver from 'semver';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

function resolves(from, name, range) {
	// Walk up node_modules folders from the depending package, as Node's resolution does: the first
	// entry found is the one used, so it must satisfy the range.
	let dir = from;
	for (;;) {
		const found = packages[`${dir ? `${dir}/` : ''}node_modules/${name}`];
		if (found) return semver.satisfies(found.version, range);
		if (!dir) return false;
		const index = dir.lastIndexOf('/node_modules/');
		dir = index === -1 ? '' : dir.slice(0, index);
	}
}

const added = [];
for (const [path, pkg] of Object.entries(packages)) {
	for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
		if (resolves(path, name, version)) continue;
		const sibling = Object.entries(packages).find(([p]) => p.endsWith(`node_modules/${name}`))?.[1] ?? {};
		// Beside the depending package (in its parent's node_modules), where npm would place it.
		const index = path.lastIndexOf('/node_modules/');
		const target = `${index === -1 ? '' : `${path.slice(0, index)}/`}node_modules/${name}`;
		if (packages[target]) continue;
		packages[target] = {
			version,
			...(pkg.dev ? { dev: true } : {}),
			optional: true,
			...Object.fromEntries(['os', 'cpu', 'libc', 'license', 'engines'].filter((k) => sibling[k]).map((k) => [k, sibling[k]])),
		};
		added.push(`${target}@${version}`);
	}
}
if (added.length) {
	lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
	writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
}
console.log(added.length ? `added ${added.length} lock entries:\n  ${added.join('\n  ')}` : 'lock file complete');
