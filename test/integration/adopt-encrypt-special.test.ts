import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
// Directus's own implementation of its `encrypt` special: a row "not reached yet", written as Directus writes it.
import { encrypt as directusEncrypt } from '@directus/api/utils/encrypt';
import { MASK } from '../../src/lib/mask.js';
import { PROTECTED_MARK } from '../../src/schema/field-registry.js';
import type { Instance } from '../../tools/harness/directus.js';
import { createCollection as createCollectionIn, useDirectus, type Api } from './fixture.js';

/**
 * Coming from Directus's own `encrypt` special: `credentials adopt-encrypt-special` takes the special
 * off each field and protects it in one field update, then re-seals every value the special wrote
 * (opened with Directus's SECRET) under the extension's key, bound to its row. Values it cannot open
 * are reported and left; fields that cannot be protected keep the special; rows not reached yet
 * still reveal; a second run finishes what the first left.
 */
const suite = useDirectus();
let directus: Instance;
let api: Api;
const admin = () => ({ token: directus.adminToken });
const server = () => ({ headers: { 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! } });
const stored = async (collection: string, id: string | number, field: string) => (await directus.db.query(`select ${field} as v from ${collection} where id = ?`, id))[0]?.v as string | null;
const fieldMeta = async (collection: string, field: string) => (await api('GET', `/fields/${collection}/${field}`, admin())).body.data as { type: string; meta: { special: string[] | null; interface: string | null } };
const reveal = (collection: string, field: string, id: string | number) => api('POST', '/credentials/decrypt', { ...server(), body: { collection, field, id } });
const adopt = async (...args: string[]) => {
	const out = await directus.cli(['credentials', 'adopt-encrypt-special', '--json', ...args]);
	return { code: out.code, summary: JSON.parse(out.stdout.trim().split('\n').pop()!), output: out.stdout + out.stderr };
};

const createCollection = (keys: 'uuid' | 'integer') => createCollectionIn({ directus, api }, keys, 'enc');
async function addField(collection: string, field: string, type: string, special: string[] | null) {
	const added = await api('POST', `/fields/${collection}`, { ...admin(), body: { field, type, meta: { special, interface: 'input' }, schema: {} } });
	expect(added.status, added.text).toBe(200);
}

// Values Directus's special writes: each one of a kind, so a leak of any is found by its text.
const secretOf = (i: number) => `sk-adopt-${i}-${randomBytes(6).toString('hex')}`;

describe("adopt-encrypt-special: from Directus's encrypt special to sealed, row-bound values", () => {
	let vault: string;
	let counters: string;
	let elsewhere: string;
	const rows: { id: string; apiKey: string; token: string }[] = [];
	let foreign: string;
	let countersId: number;

	beforeAll(async () => {
		({ directus, api } = suite);
		vault = await createCollection('uuid');
		await addField(vault, 'api_key', 'text', ['encrypt']);
		await addField(vault, 'token', 'string', ['encrypt']);
		await addField(vault, 'label', 'string', null);
		// Directus's default collection: keys the database generates, so its values cannot be bound to their row before it exists.
		counters = await createCollection('integer');
		await addField(counters, 'secret', 'text', ['encrypt']);
		for (let i = 0; i < 6; i++) {
			const row = { apiKey: secretOf(i), token: `tok-${i}-${randomBytes(4).toString('hex')}` };
			const created = await api('POST', `/items/${vault}`, { ...admin(), body: { api_key: row.apiKey, token: row.token, label: `row ${i}` } });
			expect(created.status, created.text).toBe(200);
			rows.push({ id: created.body.data.id, ...row });
		}
		const counted = await api('POST', `/items/${counters}`, { ...admin(), body: { secret: 'int-key-secret' } });
		countersId = counted.body.data.id;
		// A field whose values were all written under another SECRET: handed over, nobody could read them.
		elsewhere = await createCollection('uuid');
		await addField(elsewhere, 'secret', 'text', ['encrypt']);
		await directus.db.execute(`insert into ${elsewhere} (id, secret) values (?, ?)`, randomUUID(), await directusEncrypt('restored-from-elsewhere', 'another-SECRET'));
		// One value written by a Directus with another SECRET (a restore from elsewhere): it cannot be opened here.
		foreign = randomUUID();
		await directus.db.execute(`insert into ${vault} (id, api_key, label) values (?, ?, ?)`, foreign, await directusEncrypt('from-elsewhere', 'another-SECRET'), 'foreign');
	}, 120_000);

	it('starts from what Directus writes: its own ciphertext in the column, the special on the field', async () => {
		for (const row of rows) {
			expect(await stored(vault, row.id, 'api_key')).toMatch(/^1\|\|scrypt\|\|16384\|\|8\|\|1\|\|/);
			expect(await stored(vault, row.id, 'token')).toMatch(/^1\|\|scrypt\|\|/);
		}
		expect((await fieldMeta(vault, 'api_key')).meta.special).toEqual(['encrypt']);
	});

	it('protecting a field that still has the special is refused with the way out: both would encrypt every value twice', async () => {
		const patched = await api('PATCH', `/fields/${vault}/api_key`, { ...admin(), body: { meta: { interface: 'credentials-secret' } } });
		expect(patched.status).toBe(400);
		expect(patched.body.errors[0].message).toContain('adopt-encrypt-special');
		const both = await api('PATCH', `/fields/${vault}/api_key`, { ...admin(), body: { meta: { special: ['encrypt', PROTECTED_MARK] } } });
		expect(both.status).toBe(400);
		expect((await fieldMeta(vault, 'api_key')).meta.special).toEqual(['encrypt']);
	});

	it('--dry-run lists the fields and counts the values, and changes nothing', async () => {
		const before = await stored(vault, rows[0]!.id, 'api_key');
		const { code, summary } = await adopt('--dry-run', '--collection', vault);
		expect(summary).toMatchObject({ dryRun: true, handedOver: [`${vault}.api_key`, `${vault}.token`], refused: [], rewritten: 12, failed: 1 });
		expect(summary.failures).toEqual([expect.objectContaining({ collection: vault, field: 'api_key', id: foreign, reason: expect.stringContaining('authentication-failed') })]);
		expect(code).toBe(1);
		expect(await stored(vault, rows[0]!.id, 'api_key')).toBe(before);
		expect((await fieldMeta(vault, 'api_key')).meta.special).toEqual(['encrypt']);
		expect((await fieldMeta(vault, 'token')).type).toBe('string');
	});

	it('one command: every field handed over, every value re-sealed for its row; the foreign value and the integer-keyed field are reported and left as they were', async () => {
		const foreignBefore = await stored(vault, foreign, 'api_key');
		const { code, summary, output } = await adopt();
		expect(code).toBe(1);
		expect(summary.notice).toContain('/utils/cache/clear?system');
		// A Directus without Redis hears of another process's schema change when its system cache is cleared (or it restarts).
		expect((await api('POST', '/utils/cache/clear?system', admin())).status).toBe(200);
		expect(summary.handedOver).toEqual([`${vault}.api_key`, `${vault}.token`]);
		expect(summary.refused, JSON.stringify(summary.refused) + JSON.stringify(summary.handedOver)).toHaveLength(2);
		expect(summary.refused).toEqual(
			expect.arrayContaining([
				{ field: `${counters}.secret`, reason: expect.stringContaining('generated by the database') },
				{ field: `${elsewhere}.secret`, reason: expect.stringContaining('do not open with this SECRET') },
			]),
		);
		expect((await fieldMeta(elsewhere, 'secret')).meta.special).toEqual(['encrypt']);
		expect(summary).toMatchObject({ rewritten: 12, failed: 1 });
		for (const row of rows) expect(output).not.toContain(row.apiKey);

		for (const field of ['api_key', 'token']) {
			const meta = await fieldMeta(vault, field);
			expect(meta.meta.special).toEqual([PROTECTED_MARK]);
			expect(meta.meta.interface).toBe('credentials-secret');
			// A 255-character string cannot hold an envelope: widened to text.
			expect(meta.type).toBe('text');
		}
		for (const row of rows) {
			expect(await stored(vault, row.id, 'api_key')).toMatch(/^cred:v2:/);
			expect(await stored(vault, row.id, 'token')).toMatch(/^cred:v2:/);
			expect((await reveal(vault, 'api_key', row.id)).body).toEqual({ success: true, data: row.apiKey });
			expect((await reveal(vault, 'token', row.id)).body).toEqual({ success: true, data: row.token });
			expect((await api('GET', `/items/${vault}/${row.id}`, admin())).body.data).toMatchObject({ api_key: MASK, token: MASK, label: expect.any(String) });
		}
		expect(await stored(vault, foreign, 'api_key')).toBe(foreignBefore);
		expect((await reveal(vault, 'api_key', foreign)).status).toBe(500);
		// Left with Directus's special, working as before.
		expect((await fieldMeta(counters, 'secret')).meta.special).toEqual(['encrypt']);
		expect(await stored(counters, countersId, 'secret')).toMatch(/^1\|\|scrypt\|\|/);
	});

	it('a row not reached yet (a run killed midway) still reveals, is counted by status, and the next run finishes it', async () => {
		const late = randomUUID();
		await directus.db.execute(`insert into ${vault} (id, api_key, label) values (?, ?, ?)`, late, await directusEncrypt('late-secret', directus.env.SECRET!), 'late');
		expect((await reveal(vault, 'api_key', late)).body).toEqual({ success: true, data: 'late-secret' });
		expect((await api('GET', `/items/${vault}/${late}`, admin())).body.data.api_key).toBe(MASK);
		const meta = await api('GET', `/credentials/field-status?collection=${vault}&field=api_key&id=${late}`, admin());
		// Metadata never derives a key (any signed-in user may ask): whether it opens is for verify and the reveal.
		expect(meta.body).toMatchObject({ format: 'directus-encrypt', decryptable: null });
		const health = await api('GET', '/credentials/status', admin());
		expect(health.body.fields.find((f: { field: string }) => f.field === `${vault}.api_key`)).toMatchObject({ directusEncrypt: 2 });

		const again = await adopt('--collection', vault);
		expect(again.summary).toMatchObject({ handedOver: [], refused: [], rewritten: 1, failed: 1 });
		expect(await stored(vault, late, 'api_key')).toMatch(/^cred:v2:/);
		expect((await reveal(vault, 'api_key', late)).body).toEqual({ success: true, data: 'late-secret' });
	});

	it('after adoption every write is sealed by the extension, and a value in Directus\'s format sent by a client is refused (it names no row)', async () => {
		const row = rows[0]!;
		const updated = await api('PATCH', `/items/${vault}/${row.id}`, { ...admin(), body: { api_key: 'rotated-by-hand' } });
		expect(updated.status, updated.text).toBe(200);
		expect(await stored(vault, row.id, 'api_key')).toMatch(/^cred:v2:/);
		expect((await reveal(vault, 'api_key', row.id)).body.data).toBe('rotated-by-hand');
		const planted = await api('PATCH', `/items/${vault}/${row.id}`, { ...admin(), body: { api_key: await directusEncrypt('planted', directus.env.SECRET!) } });
		expect(planted.status).toBe(400);
		expect(planted.body.errors[0].extensions.code).toBe('CREDENTIALS_DIRECTUS_ENCRYPT_REFUSED');
		expect((await reveal(vault, 'api_key', row.id)).body.data).toBe('rotated-by-hand');
	});

	it('killed with SIGKILL it loses nothing; run again under live writes, it finishes without overwriting one', async () => {
		const big = await createCollection('uuid');
		await addField(big, 'secret', 'text', ['encrypt']);
		const expected = new Map<string, string>();
		for (let i = 0; i < 160; i++) expected.set(randomUUID(), `bulk-${i}-${randomBytes(4).toString('hex')}`);
		const rowsOf = [...expected];
		const sealed = await Promise.all(rowsOf.map(([, value]) => directusEncrypt(value, directus.env.SECRET!)));
		await directus.db.insertMany(big, rowsOf.map(([id], i) => ({ id, secret: sealed[i]! })));
		const adopted = async () => Number((await directus.db.query<{ n: number | string }>(`select count(*) as n from ${big} where secret like 'cred:v2:%'`))[0]!.n);

		const killed = directus.spawnCli(['credentials', 'adopt-encrypt-special', '--collection', big, '--batch-size', '10']);
		const exited = new Promise((r) => killed.once('exit', r));
		const deadline = Date.now() + 60_000;
		while ((await adopted()) < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
		killed.kill('SIGKILL');
		await exited;
		const midway = await adopted();
		expect(midway).toBeGreaterThanOrEqual(30);
		expect(midway).toBeLessThan(expected.size);
		// Every row holds one whole value, the old or the new: nothing half-written, nothing lost.
		for (const { id, secret } of await directus.db.query<{ id: string; secret: string }>(`select id, secret from ${big}`)) {
			expect(secret.startsWith('cred:v2:') || secret.startsWith('1||scrypt||'), id).toBe(true);
		}
		expect((await fieldMeta(big, 'secret')).meta.special).toEqual([PROTECTED_MARK]);

		// The server hears of the hand-over (no Redis here), then writes race the second run.
		expect((await api('POST', '/utils/cache/clear?system', admin())).status).toBe(200);
		const live = rowsOf.slice(-20).map(([id]) => id);
		let running = true;
		const failures: string[] = [];
		const traffic = (async () => {
			for (let round = 0; running || round < 1; round++) {
				for (const id of live) {
					const value = `live-${round}-${randomBytes(3).toString('hex')}`;
					const written = await api('PATCH', `/items/${big}/${id}`, { ...admin(), body: { secret: value } });
					if (written.status === 200) expected.set(id, value);
					else failures.push(`${written.status} ${written.text}`);
				}
			}
		})();
		const rerun = await adopt('--collection', big, '--batch-size', '10');
		running = false;
		await traffic;
		expect(failures).toEqual([]);
		expect(rerun.code, rerun.output).toBe(0);
		expect(rerun.summary).toMatchObject({ handedOver: [], failed: 0 });
		expect(await adopted()).toBe(expected.size);
		for (const [id, value] of expected) expect((await reveal(big, 'secret', id)).body, id).toEqual({ success: true, data: value });
	});

	it("a value in Directus's format planted in a built-in field is never opened with SECRET, and decrypt-field leaves Directus's own fields alone", async () => {
		const created = await api('POST', '/credentials/create-profile', { ...admin(), body: { platform: 'instagram', platform_username: 'planted', credentials: { password: 'x' } } });
		expect(created.status, created.text).toBe(200);
		await directus.db.execute('update platform_connections set encrypted_credentials = ? where id = ?', await directusEncrypt('{"password":"copied"}', directus.env.SECRET!), created.body.id);
		const revealed = await api('POST', '/credentials/reveal', { ...server(), body: { creatorProfileId: created.body.id } });
		expect(revealed.status).toBe(500);
		expect(revealed.text).not.toContain('copied');
		for (const field of [`${counters}.secret`, 'directus_settings.project_name']) {
			const out = await directus.cli(['credentials', 'decrypt-field', '--json', '--field', field, '--confirm', field]);
			expect(out.code).toBe(1);
			expect(JSON.parse(out.stdout.trim().split('\n').pop()!).error).toMatch(/encrypt special|system collections/);
		}
		expect((await fieldMeta(counters, 'secret')).meta.special).toEqual(['encrypt']);
	});

	it('without SECRET nothing is touched: the command says why', async () => {
		const out = await directus.cli(['credentials', 'adopt-encrypt-special', '--json'], { SECRET: undefined });
		expect(out.code).toBe(1);
		expect(JSON.parse(out.stdout.trim().split('\n').pop()!)).toMatchObject({ ok: false, error: expect.stringContaining('SECRET is not set') });
		expect((await fieldMeta(counters, 'secret')).meta.special).toEqual(['encrypt']);
	});
});
