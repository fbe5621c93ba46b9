// The local instance's settings, shared by `npm start` and `npm run cli`: defaults < .directus/.env <
// the process environment, for every variable. Directus itself would merge its config file *over* the
// process environment, so it is given no file: the merged settings reach it as its environment.
// Secrets are generated only for a database that does not exist yet (a new key for rows sealed under
// another one would make them unreadable).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { devNull } from 'node:os';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..');
/** Where the local instance lives; CREDENTIALS_LOCAL_DIR moves it (tests use a temp dir). */
export const dataDir = resolve(process.env.CREDENTIALS_LOCAL_DIR || join(root, '.directus'));
export const envFile = join(dataDir, '.env');

// Directus reads its .env with dotenv's parser; so do we, so that a value means the same to both.
const requireFrom = (req, name) => createRequire(req.resolve(`${name}/package.json`));
const { parse } = ['directus', '@directus/api', '@directus/env'].reduce(requireFrom, createRequire(import.meta.url))('dotenv');

/** Secrets Directus and the extension need; a new one for an existing database would break it. */
const SECRETS = {
	KEY: () => randomBytes(32).toString('hex'),
	SECRET: () => randomBytes(32).toString('hex'),
	CREDENTIALS_ENC_KEY_B64: () => randomBytes(32).toString('base64'),
	RBAC_SYNC_WEBHOOK_SECRET: () => randomBytes(32).toString('hex'),
};
/** Read by `directus bootstrap` only, to create the first admin of a new database. */
const FIRST_ADMIN = {
	ADMIN_EMAIL: () => 'admin@example.com',
	ADMIN_PASSWORD: () => randomBytes(12).toString('base64url'),
};
/** The extension's key may come from a passphrase instead. */
const ALTERNATIVES = { CREDENTIALS_ENC_KEY_B64: ['CREDENTIALS_MASTER_PASSPHRASE'] };

export class LocalEnvError extends Error {}

const readEnvFile = () => (existsSync(envFile) ? parse(readFileSync(envFile)) : {});

/** The `_FILE` form of a variable and the variable itself are one setting (Directus reads either). */
const twinOf = (name) => (name.endsWith('_FILE') ? name.slice(0, -5) : `${name}_FILE`);

/**
 * Defaults < file < process environment. A variable the process sets (in either form, `X` or `X_FILE`)
 * takes nothing from the file, even set to the empty string (Directus needs some that way, such as an
 * empty DB_PASSWORD; an empty secret is then missing, and named as such).
 */
export function layerEnv(defaults, fileValues, processEnv) {
	const exported = Object.fromEntries(Object.entries(processEnv).filter(([, value]) => value !== undefined));
	const fromFile = Object.fromEntries(Object.entries(fileValues).filter(([name]) => !(name in exported) && !(twinOf(name) in exported)));
	return { ...defaults, ...fromFile, ...exported };
}

/** Directus reads `X_FILE` for its own variables only (@directus/env's list); the extension reads none. */
const READ_FROM_FILE = /^(SECRET|ADMIN_EMAIL|ADMIN_PASSWORD|DB_.+)$/;
const isSet = (env, name) =>
	Boolean(env[name] || (READ_FROM_FILE.test(name) && env[`${name}_FILE`])) || (ALTERNATIVES[name] ?? []).some((other) => isSet(env, other));

/** The names among `wanted` that neither the file nor the process environment sets. */
export const unsetNames = (env, wanted) => Object.keys(wanted).filter((name) => !isSet(env, name));

function defaults() {
	return {
		DB_CLIENT: 'sqlite3',
		DB_FILENAME: join(dataDir, 'data.db'),
		EXTENSIONS_PATH: join(dataDir, 'extensions'),
		STORAGE_LOCAL_ROOT: join(dataDir, 'uploads'),
		HOST: '127.0.0.1',
		PORT: '8055',
		TELEMETRY: 'false',
		// The core licence keeps telemetry on whatever TELEMETRY says; point it nowhere so nothing leaves the machine.
		TELEMETRY_URL: 'http://127.0.0.1:9',
		COMPLIANCE_URL: 'http://127.0.0.1:9',
	};
}

/** The merged settings Directus runs with; it reads no config file of its own (not even a stray ./.env). */
export function localEnv(fileValues = readEnvFile(), processEnv = process.env) {
	const env = layerEnv(defaults(), fileValues, processEnv);
	env.PUBLIC_URL ??= `http://${env.HOST}:${env.PORT}`;
	env.CONFIG_PATH = devNull;
	return env;
}

/**
 * Whether the database the settings point at already holds a Directus installation: 'yes', 'no', or
 * 'unknown' when it cannot be reached. SQLite: its file exists and is not empty. Other clients:
 * Directus's own check, in a child process given the settings.
 */
export async function databaseExists(env) {
	if (env.DB_CLIENT === 'sqlite3') return existsSync(env.DB_FILENAME) && statSync(env.DB_FILENAME).size > 0 ? 'yes' : 'no';
	const code = await new Promise((done) => {
		const child = spawn(process.execPath, [join(root, 'scripts', 'database-installed.mjs')], { env, stdio: 'ignore' });
		child.on('error', () => done(1));
		child.on('exit', (exitCode) => done(exitCode ?? 1));
	});
	return code === 0 ? 'yes' : code === 10 ? 'no' : 'unknown';
}

/**
 * Reads .directus/.env and the process environment. For a database that does not exist yet, writes
 * any secret neither sets into the file (mode 0600, never overwriting a value); for one that exists,
 * refuses with the names of the missing secrets. Returns the merged settings and what it generated.
 */
export async function prepareLocalEnv() {
	mkdirSync(dataDir, { recursive: true, mode: 0o700 });
	const fileValues = readEnvFile();
	// Restored from a backup, or edited: it holds secrets, so only its owner reads it.
	if (existsSync(envFile)) chmodSync(envFile, 0o600);
	const env = localEnv(fileValues);
	const wanted = { ...SECRETS, ...FIRST_ADMIN };
	const unset = unsetNames(env, wanted);
	// An exported empty value wins over the file's; generating one then would replace what the file holds.
	const blanked = unset.filter((name) => process.env[name] === '' && fileValues[name]);
	if (blanked.length > 0) {
		throw new LocalEnvError(
			`${blanked.join(', ')} ${blanked.length === 1 ? 'is' : 'are'} exported empty, which wins over the value in ${envFile}: unset ${blanked.length === 1 ? 'it' : 'them'} to use the file's, or export the value. Nothing was started.`,
		);
	}
	const exists = unset.length === 0 ? 'yes' : await databaseExists(env);
	if (exists === 'no') {
		const values = Object.fromEntries(unset.map((name) => [name, wanted[name]()]));
		writeEnvFile(values);
		return { env: { ...env, ...values }, created: unset };
	}
	// The database exists (or may): its first admin was created long ago, but its secrets must be the ones it was set up with.
	const missing = unsetNames(env, SECRETS);
	if (missing.length > 0) {
		const names = missing.join(', ');
		const database = env.DB_CLIENT === 'sqlite3' ? env.DB_FILENAME : `the ${env.DB_CLIENT} database`;
		throw new LocalEnvError(
			`${names} ${missing.length === 1 ? 'is' : 'are'} not set (neither in the environment nor in ${envFile}), and ` +
				(exists === 'yes' ? `${database} already exists: new secrets would not open what it holds. ` : `${database} did not answer, so whether it holds data under other secrets is unknown. `) +
				`Set ${names} to the value${missing.length === 1 ? '' : 's'} it was set up with (or restore ${envFile} from its backup); ` +
				`secrets are generated only for a database that does not exist yet. Nothing was started.`,
		);
	}
	return { env, created: [] };
}

/** Adds values to the file; a line that names one of them with an empty value is replaced. */
function writeEnvFile(values) {
	const header = '# Generated by npm start. Keep it secret; back it up with the database.\n';
	const kept = existsSync(envFile)
		? readFileSync(envFile, 'utf8')
				.split(/(?<=\n)/)
				.filter((line) => !Object.keys(values).some((name) => new RegExp(`^\\s*(export\\s+)?${name}\\s*=\\s*(''|"")?\\s*$`).test(line)))
				.join('')
		: header;
	const lines = Object.entries(values).map(([name, value]) => `${name}=${value}\n`).join('');
	writeFileSync(envFile, `${kept}${kept === '' || kept.endsWith('\n') ? '' : '\n'}${lines}`, { mode: 0o600 });
	chmodSync(envFile, 0o600);
}
