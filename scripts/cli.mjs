// `npm run cli -- <directus command>`: the Directus CLI (Node 22, this extension loaded) against the
// local instance of `npm start`, e.g. `npm run cli -- credentials status`.
import { ensureEnvFile, localEnv } from './local-env.mjs';
import { installExtension, runDirectus } from './directus.mjs';

const env = localEnv(ensureEnvFile().values);
installExtension(env.EXTENSIONS_PATH);
try {
	await runDirectus(process.argv.slice(2), env);
} catch {
	process.exit(1);
}
