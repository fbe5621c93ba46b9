// `npm start`: a local Directus on SQLite under .directus/, with this extension built, installed,
// set up (schema + policy) and served. Safe to run again: data and generated secrets are reused; secrets are
// generated for a new database only.
import { mkdirSync } from 'node:fs';
import { envFile, prepareLocalEnv } from './local-env.mjs';
import { installExtension, runDirectus, spawnDirectus } from './directus.mjs';
import { rebuildNativeAddons } from './rebuild-native.mjs';

rebuildNativeAddons();
const { env, created } = await prepareLocalEnv().catch((error) => {
	console.error(error.message);
	process.exit(1);
});
if (created.length > 0) console.log(`Generated ${created.join(', ')} in ${envFile} (mode 0600). The admin login is ADMIN_EMAIL / ADMIN_PASSWORD there.`);
else console.log(`Using settings from ${envFile} (the process environment wins over it).`);

mkdirSync(env.EXTENSIONS_PATH, { recursive: true });
mkdirSync(env.STORAGE_LOCAL_ROOT, { recursive: true });
installExtension(env.EXTENSIONS_PATH);

try {
	await runDirectus(['bootstrap'], env);
	await runDirectus(['credentials', 'setup'], env);
} catch (error) {
	console.error(error.message);
	process.exit(1);
}

const server = spawnDirectus(['start'], env);
const stop = (signal) => server.kill(signal);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.on('exit', (code, signal) => process.exit(signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : (code ?? 0)));
