// `npm run cli -- <directus command>`: the Directus CLI (Node 22, this extension loaded) against the
// local instance of `npm start`, e.g. `npm run cli -- credentials status`.
// With --json, stdout holds the command's one JSON line and nothing else: Directus's own output
// (its logs, some printed before the extension runs) goes to stderr, and the line comes through a
// descriptor of its own (CREDENTIALS_CLI_OUTPUT_FD, see src/hook/cli).
import { prepareLocalEnv } from './local-env.mjs';
import { installExtension, runDirectus } from './directus.mjs';
import { rebuildNativeAddons } from './rebuild-native.mjs';

rebuildNativeAddons();
const { env } = await prepareLocalEnv().catch((error) => {
	console.error(error.message);
	process.exit(1);
});
installExtension(env.EXTENSIONS_PATH);
const args = process.argv.slice(2);
const json = args.includes('--json');
const options = json ? { stdio: ['inherit', process.stderr, 'inherit', process.stdout] } : {};
try {
	await runDirectus(args, json ? { ...env, CREDENTIALS_CLI_OUTPUT_FD: '3' } : env, options);
} catch {
	process.exit(1);
}
