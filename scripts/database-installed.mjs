// Exits 0 when the database Directus's settings (its environment) point at holds a Directus
// installation, 10 when it does not, anything else when it could not tell (local-env.mjs asks).
const { getDatabase, isInstalled } = await import('@directus/api/database/index');
const database = getDatabase();
let code = 1;
try {
	code = (await isInstalled()) ? 0 : 10;
} finally {
	await database.destroy();
}
process.exit(code);
