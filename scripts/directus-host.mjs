// Which Directus the tests and the benchmark run (see the comment below); apart from directus.mjs so that
// the harness's host facts (tools/harness/host.ts) read it without the launcher.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { root } from './local-env.mjs';

/**
 * The Directus that tests and the benchmark run: this checkout's (12), or the one installed in the folder
 * CREDENTIALS_DIRECTUS_HOST names (test/hosts/directus-11: the Directus 11 smoke run), through that
 * folder's own cli.mjs, so that Directus and everything it resolves come from there.
 */
const hostDir = process.env.CREDENTIALS_DIRECTUS_HOST ? resolve(root, process.env.CREDENTIALS_DIRECTUS_HOST) : null;
export const directusCli = hostDir ? join(hostDir, 'cli.mjs') : join(root, 'scripts', 'directus-cli.mjs');
export const directusVersion = createRequire(hostDir ? join(hostDir, 'package.json') : import.meta.url)('directus/package.json').version;
