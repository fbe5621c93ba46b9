import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/crypto/keyring.js';
import { freePort, newKeyB64 } from '../../tools/harness/directus.js';

/**
 * `npm start` and `npm run cli` as a developer runs them (scripts/start.mjs, scripts/cli.mjs), each
 * against a local instance in a temp dir (CREDENTIALS_LOCAL_DIR): the process environment wins over
 * .directus/.env for every variable, and secrets are generated for a new database only.
 * On SQLite, the local instance's database.
 */
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
	// The whole group: a test that failed midway must not leave the Directus that npm start runs serving.
	for (const child of children) {
		try {
			process.kill(-child.pid!, 'SIGKILL');
		} catch {
			/* the group has already exited */
		}
	}
	for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const localDir = () => {
	const dir = mkdtempSync(join(tmpdir(), 'creds-local-'));
	dirs.push(dir);
	return dir;
};
/** What a developer's shell holds, and no more: nothing of the test runner's own settings leaks in. */
const shell = (dir: string, port: number, vars: Record<string, string> = {}) => ({
	PATH: process.env.PATH ?? '',
	HOME: process.env.HOME ?? dir,
	CREDENTIALS_LOCAL_DIR: dir,
	PORT: String(port),
	SERVE_APP: 'false',
	LOG_LEVEL: 'warn',
	...vars,
});

const script = (name: string, args: string[], env: Record<string, string>) =>
	new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
		execFile(process.execPath, [join('scripts', name), ...args], { env, encoding: 'utf8' }, (error, stdout, stderr) =>
			resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
		),
	);
const statusJson = async (env: Record<string, string>) => {
	const out = await script('cli.mjs', ['credentials', 'status', '--json'], { ...env, LOG_LEVEL: 'error' });
	expect(out.code, out.stderr).toBe(0);
	return JSON.parse(out.stdout);
};

async function answering(url: string) {
	try {
		return (await fetch(`${url}/server/ping`)).ok;
	} catch {
		return false;
	}
}

/** `npm start` (after the build `npm test` already made); resolves once it serves, or with its output when it exits first. */
async function npmStart(env: Record<string, string>) {
	const child = spawn(process.execPath, ['scripts/start.mjs'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
	children.push(child);
	let output = '';
	child.stdout!.on('data', (d) => (output += d));
	child.stderr!.on('data', (d) => (output += d));
	const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
	const url = `http://127.0.0.1:${env.PORT}`;
	const deadline = Date.now() + 90_000;
	while (Date.now() < deadline && child.exitCode === null && !(await answering(url))) await new Promise((r) => setTimeout(r, 250));
	return {
		url,
		output: () => output,
		serving: child.exitCode === null && (await answering(url)),
		exited,
		stop: async () => (child.kill('SIGTERM'), exited),
	};
}

const login = async (url: string, email: string, password: string) =>
	fetch(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
const serverRoute = (url: string, route: string, secret: string, body: unknown) =>
	fetch(`${url}/credentials/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-rbac-sync-secret': secret }, body: JSON.stringify(body) });
/** Whether an HS256 token was signed with this secret. */
const signedWith = (token: string, secret: string) => {
	const [header, payload, signature] = token.split('.');
	return createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url') === signature;
};

describe('the process environment wins over .directus/.env', () => {
	const dir = localDir();
	const [keyA, keyB] = [newKeyB64(), newKeyB64()];
	const real = { email: 'real@example.com', password: randomBytes(9).toString('hex'), rbac: randomBytes(16).toString('hex'), secret: randomBytes(32).toString('hex') };
	let env: Record<string, string>;
	let decoyPort: number;

	it('npm start runs with every exported value, in either form, and none of the decoys in the file', async () => {
		decoyPort = await freePort();
		const port = await freePort();
		// The file says otherwise about everything the shell sets, including the `_FILE` forms Directus reads.
		writeFileSync(
			join(dir, '.env'),
			[
				'KEY=decoy-key',
				'SECRET=decoy-secret-that-must-not-sign-anything',
				// Directus would fail to start reading it: the exported ADMIN_PASSWORD takes its place.
				'ADMIN_PASSWORD_FILE=/nonexistent/decoy-password',
				`CREDENTIALS_ENC_KEY_B64=${keyB}`,
				'RBAC_SYNC_WEBHOOK_SECRET=decoy-rbac-secret',
				'ADMIN_EMAIL=decoy@example.com',
				'ADMIN_PASSWORD=decoy-password',
				`PORT=${decoyPort}`,
				`DB_FILENAME=${join(dir, 'decoy.db')}`,
				'',
			].join('\n'),
			{ mode: 0o600 },
		);
		writeFileSync(join(dir, 'secret.txt'), real.secret, { mode: 0o600 });
		env = shell(dir, port, {
			KEY: randomBytes(16).toString('hex'),
			SECRET_FILE: join(dir, 'secret.txt'),
			CREDENTIALS_ENC_KEY_B64: keyA,
			RBAC_SYNC_WEBHOOK_SECRET: real.rbac,
			ADMIN_EMAIL: real.email,
			ADMIN_PASSWORD: real.password,
			DB_FILENAME: join(dir, 'real.db'),
		});
		const before = readFileSync(join(dir, '.env'), 'utf8');
		const local = await npmStart(env);
		try {
			expect(local.serving, local.output()).toBe(true);
			expect(await answering(`http://127.0.0.1:${decoyPort}`)).toBe(false);
			expect(existsSync(join(dir, 'real.db'))).toBe(true);
			expect(existsSync(join(dir, 'decoy.db'))).toBe(false);
			// Nothing was generated: the shell set every secret.
			expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(before);

			expect((await login(local.url, 'decoy@example.com', 'decoy-password')).status).toBe(401);
			const signedIn = await login(local.url, real.email, real.password);
			expect(signedIn.status).toBe(200);
			const token = ((await signedIn.json()) as { data: { access_token: string } }).data.access_token;
			expect(signedWith(token, real.secret)).toBe(true);

			const row = await fetch(`${local.url}/items/platform_connections`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
				body: JSON.stringify({ platform: 'local', platform_username: 'me' }),
			});
			expect(row.status).toBe(200);
			const creatorProfileId = ((await row.json()) as { data: { id: string } }).data.id;
			expect((await serverRoute(local.url, 'store', 'decoy-rbac-secret', { creatorProfileId, credentials: { password: 'x' } })).status).toBe(401);
			expect((await serverRoute(local.url, 'store', real.rbac, { creatorProfileId, credentials: { password: 'local-secret' } })).status).toBe(200);
			const revealed = await serverRoute(local.url, 'reveal', real.rbac, { creatorProfileId });
			expect(((await revealed.json()) as { credentials: unknown }).credentials).toEqual({ password: 'local-secret' });
		} finally {
			expect(await local.stop()).toBe(0);
		}
	});

	it('npm run cli reads the same way: the exported key is the current one, and the file still fills what the shell leaves unset', async () => {
		const exported = await statusJson(env);
		expect(exported.keys.current).toBe(keyId(Buffer.from(keyA, 'base64')));
		expect(exported.fields.find((f: { field: string }) => f.field === 'platform_connections.encrypted_credentials').byKeyId).toEqual({ [keyId(Buffer.from(keyA, 'base64'))]: 1 });
		const { CREDENTIALS_ENC_KEY_B64: _, ...withoutKey } = env;
		// Not exported, the file's value applies (and names the other key, which no row uses).
		const fromFile = await statusJson(withoutKey);
		expect(fromFile.keys.current).toBe(keyId(Buffer.from(keyB, 'base64')));
		expect(fromFile.missingKeyIds).toEqual([keyId(Buffer.from(keyA, 'base64'))]);
		// Exported empty, the shell still wins, so the file's key is not used: refused, naming it.
		const emptied = await script('cli.mjs', ['credentials', 'status'], { ...withoutKey, CREDENTIALS_ENC_KEY_B64: '' });
		expect(emptied.code).toBe(1);
		expect(emptied.stderr).toContain('CREDENTIALS_ENC_KEY_B64 is exported empty, which wins over the value in');
	});

	it('a secret set nowhere is never generated for a database that exists: npm start and npm run cli refuse, naming it', async () => {
		writeFileSync(join(dir, '.env'), readFileSync(join(dir, '.env'), 'utf8').replace(/^CREDENTIALS_ENC_KEY_B64=.*\n/m, 'CREDENTIALS_ENC_KEY_B64=\n'), { mode: 0o600 });
		const file = readFileSync(join(dir, '.env'), 'utf8');
		const database = statSync(join(dir, 'real.db'));
		const { CREDENTIALS_ENC_KEY_B64: _, ...withoutKey } = env;
		for (const shellEnv of [withoutKey, { ...withoutKey, CREDENTIALS_ENC_KEY_B64: '' }]) {
			const local = await npmStart(shellEnv);
			expect(local.serving).toBe(false);
			expect(await local.exited).toBe(1);
			expect(local.output()).toMatch(/CREDENTIALS_ENC_KEY_B64 is not set .* already exists: new secrets would not open what it holds\. .*Nothing was started\./s);
			const cli = await script('cli.mjs', ['credentials', 'status'], shellEnv);
			expect(cli.code).toBe(1);
			expect(cli.stderr).toContain('CREDENTIALS_ENC_KEY_B64 is not set');
		}
		expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(file);
		expect(statSync(join(dir, 'real.db')).mtimeMs).toBe(database.mtimeMs);
		expect(await answering(`http://127.0.0.1:${env.PORT}`)).toBe(false);
	});
});

describe('a new local instance', () => {
	it('gets its secrets generated once, into a file only its owner reads, and runs with them', async () => {
		const dir = localDir();
		const env = shell(dir, await freePort());
		const boot = await script('cli.mjs', ['bootstrap'], env);
		expect(boot.code, boot.stderr).toBe(0);
		const file = readFileSync(join(dir, '.env'), 'utf8');
		expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
		const values = Object.fromEntries(file.split('\n').filter((l) => l.includes('=')).map((l) => l.split(/=(.*)/s).slice(0, 2)));
		expect(Object.keys(values).sort()).toEqual(['ADMIN_EMAIL', 'ADMIN_PASSWORD', 'CREDENTIALS_ENC_KEY_B64', 'KEY', 'RBAC_SYNC_WEBHOOK_SECRET', 'SECRET']);
		expect(Buffer.from(values.CREDENTIALS_ENC_KEY_B64, 'base64')).toHaveLength(32);
		expect((await script('cli.mjs', ['credentials', 'setup'], env)).code).toBe(0);
		expect((await statusJson(env)).keys.current).toBe(keyId(Buffer.from(values.CREDENTIALS_ENC_KEY_B64, 'base64')));
		// Later runs reuse them.
		expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(file);
	});
});
