import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directusCli, installExtension } from '../../scripts/directus.mjs';
import { createTestDatabase, dropTemplate, harnessDatabase, type TestDatabase } from './database.js';
import { findTemplate, recordTemplate, templateName, touchTemplate } from './template.js';

/**
 * A real Directus 12 with the built extension (dist/), on SQLite in a temp dir and a free port.
 * One per test file: the machine has two cores.
 */
export interface Instance {
	url: string;
	dir: string;
	/** The database, read and written directly by tests. */
	db: TestDatabase;
	logFile: string;
	env: Record<string, string>;
	adminToken: string;
	admin: { email: string; password: string };
	/** Runs `directus <args>` against this instance's database; resolves with its output. */
	cli(args: string[], extraEnv?: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }>;
	/** Starts `directus <args>` and hands back the process, for tests that kill it midway; its output goes to the log file. */
	spawnCli(args: string[]): ChildProcess;
	/** Stops the server and starts it again with changed settings (undefined removes one). */
	restart(changes?: Record<string, string | undefined>): Promise<void>;
	/** Stops the server only (its database stays; restart starts it again): a test that must be the database's only writer. */
	pause(): Promise<void>;
	log(): string;
	/** The server process id (for memory readings). */
	pid(): number | undefined;
	stop(): Promise<void>;
}

export const newKeyB64 = () => randomBytes(32).toString('base64');

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

function run(args: string[], env: Record<string, string>, logFile: string) {
	return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
		const child = spawn(process.execPath, [directusCli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		const log = createWriteStream(logFile, { flags: 'a' });
		child.stdout.on('data', (d) => ((stdout += d), log.write(d)));
		child.stderr.on('data', (d) => ((stderr += d), log.write(d)));
		child.on('error', reject);
		child.on('exit', (code) => {
			log.end();
			resolve({ code: code ?? 1, stdout, stderr });
		});
	});
}

async function waitForPing(url: string, child: ChildProcess, logFile: string) {
	const deadline = Date.now() + 90_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`Directus exited with ${child.exitCode}:\n${tail(logFile)}`);
		try {
			const res = await fetch(`${url}/server/ping`);
			if (res.ok && (await res.text()) === 'pong') return;
		} catch {
			/* not listening yet */
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	throw new Error(`Directus did not answer /server/ping:\n${tail(logFile)}`);
}

/** Appends a process's stdout and stderr to the log file; the file is closed once both have ended (either may end first). */
function logOutput(child: ChildProcess, logFile: string) {
	const log = createWriteStream(logFile, { flags: 'a' });
	log.on('error', () => undefined);
	child.stdout!.pipe(log, { end: false });
	child.stderr!.pipe(log, { end: false });
	child.once('close', () => log.end());
}

const tail = (file: string) => readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');

export interface StartOptions {
	env?: Record<string, string | undefined>;
	/** Share another instance's database (several instances behind one PostgreSQL). */
	database?: TestDatabase;
	/** Skip bootstrap and setup (the database is already prepared). */
	prepared?: boolean;
	/** Bootstrap, but leave `credentials setup` to the test. */
	skipSetup?: boolean;
	/** Plain Directus, for measuring what the extension costs (implies skipSetup). */
	withoutExtension?: boolean;
}

export async function startDirectus(options: StartOptions = {}): Promise<Instance> {
	const dir = mkdtempSync(join(tmpdir(), 'creds-directus-'));
	// An instance that prepares its own database the usual way starts from a copy of the template.
	const extraFields = options.env?.CREDENTIALS_ENCRYPTED_FIELDS;
	const templatable =
		!options.prepared && !options.database && !options.skipSetup && !options.withoutExtension && !Object.keys(options.env ?? {}).some((k) => /^(ADMIN|DB)_/.test(k));
	const template = templatable ? templateName(harnessDatabase(), extraFields) : undefined;
	let saved = template ? findTemplate(template) : undefined;
	if (saved) touchTemplate(saved.name);
	// A template another run dropped meanwhile: this instance prepares its database itself.
	const db = options.database ?? (await createTestDatabase(dir, saved?.name).catch(() => ((saved = undefined), createTestDatabase(dir))));
	const extensions = join(dir, 'extensions');
	mkdirSync(extensions);
	mkdirSync(join(dir, 'uploads'));
	if (!options.withoutExtension) installExtension(extensions);
	const logFile = join(dir, 'directus.log');
	const port = await freePort();
	const admin = { email: 'admin@example.com', password: randomBytes(12).toString('hex') };
	// Built from nothing but what the test chooses: the developer's own DB_* or keys never leak in.
	let env: Record<string, string> = {
		PATH: process.env.PATH ?? '',
		HOME: process.env.HOME ?? dir,
		// Every CLI call and start loads Directus's few thousand modules again: V8's code cache on disk
		// saves about a sixth of each (~0.8 s of ~5 s here), which a suite of a few hundred starts feels.
		NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'creds-node-compile-cache'),
		...db.env,
		KEY: randomBytes(16).toString('hex'),
		SECRET: randomBytes(32).toString('hex'),
		ADMIN_EMAIL: admin.email,
		ADMIN_PASSWORD: admin.password,
		EXTENSIONS_PATH: extensions,
		EXTENSIONS_MUST_LOAD: 'true',
		STORAGE_LOCAL_ROOT: join(dir, 'uploads'),
		CONFIG_PATH: join(dir, 'none.env'),
		HOST: '127.0.0.1',
		PORT: String(port),
		PUBLIC_URL: `http://127.0.0.1:${port}`,
		TELEMETRY: 'false',
		TELEMETRY_URL: 'http://127.0.0.1:9',
		COMPLIANCE_URL: 'http://127.0.0.1:9',
		CACHE_ENABLED: 'false',
		RATE_LIMITER_ENABLED: 'false',
		SERVE_APP: 'false',
		LOG_LEVEL: 'warn',
		LOG_STYLE: 'raw',
		CREDENTIALS_ENC_KEY_B64: newKeyB64(),
		RBAC_SYNC_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
		// The suites send many wrong secrets on purpose; the identities test sets its own limit.
		CREDENTIALS_FAILED_ATTEMPTS_PER_MINUTE: '100000',
	};
	env = applyChanges(env, options.env ?? {});
	if (saved) env = { ...env, ADMIN_EMAIL: saved.admin.email, ADMIN_PASSWORD: saved.admin.password };
	// Instances sharing a database (or copying a template) share its admin.
	admin.email = env.ADMIN_EMAIL!;
	admin.password = env.ADMIN_PASSWORD!;

	if (!options.prepared && !saved) {
		const boot = await run(['bootstrap'], env, logFile);
		if (boot.code !== 0) throw new Error(`bootstrap failed:\n${tail(logFile)}`);
		const setup = options.skipSetup || options.withoutExtension ? { code: 0 } : await run(['credentials', 'setup'], env, logFile);
		if (setup.code !== 0) throw new Error(`setup failed:\n${tail(logFile)}`);
		if (template) {
			await db.saveTemplate(template);
			await recordTemplate({ name: template, admin }, harnessDatabase(), dropTemplate);
		}
	}

	const url = `http://127.0.0.1:${port}`;
	let child: ChildProcess;
	const launch = async () => {
		child = spawn(process.execPath, [directusCli, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
		logOutput(child, logFile);
		await waitForPing(url, child, logFile);
	};
	const stopChild = async () => {
		if (!child || child.exitCode !== null) return;
		const exited = new Promise((r) => child.once('exit', r));
		child.kill('SIGTERM');
		await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
		if (child.exitCode === null) child.kill('SIGKILL');
	};
	await launch();

	const login = await fetch(`${url}/auth/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(admin),
	});
	const adminToken = ((await login.json()) as { data: { access_token: string } }).data.access_token;

	const instance: Instance = {
		url,
		dir,
		db,
		logFile,
		get env() {
			return env;
		},
		adminToken,
		admin,
		cli: (args, extraEnv = {}) => run(args, applyChanges(env, extraEnv), logFile),
		spawnCli(args) {
			const cli = spawn(process.execPath, [directusCli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
			logOutput(cli, logFile);
			return cli;
		},
		async restart(changes = {}) {
			await stopChild();
			env = applyChanges(env, changes);
			await launch();
		},
		pause: () => stopChild(),
		log: () => readFileSync(logFile, 'utf8'),
		pid: () => child?.pid,
		async stop() {
			await stopChild();
			if (process.env.KEEP_DIRECTUS) return;
			// A shared database belongs to the instance that created it.
			if (!options.database) await db.drop();
			rmSync(dir, { recursive: true, force: true });
		},
	};
	return instance;
}

function applyChanges(env: Record<string, string>, changes: Record<string, string | undefined>) {
	const next = { ...env };
	for (const [k, v] of Object.entries(changes)) {
		if (v === undefined) delete next[k];
		else next[k] = v;
	}
	return next;
}
