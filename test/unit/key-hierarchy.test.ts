import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keyId, makeKeyring, openEnvelope, sealValue, unwrapLocally, wrapLocally, UnwrapError, type Keyring } from '../../src/crypto/index.js';
import { createSecretKey } from 'node:crypto';
import { KeyHierarchy, KEYS_UNAVAILABLE } from '../../src/keys/hierarchy.js';
import { KekUnavailableError, localKekProvider, type KekProvider } from '../../src/keys/kek.js';
import { keySupply } from '../../src/keys/supply.js';
import { createDataKey, promoteWhenRead, PromotionRefused, rewrapAll } from '../../src/keys/operations.js';
import { readWrappedKeys, recordReader } from '../../src/keys/store.js';
import { checkKeys } from '../../src/lifecycle/canary.js';
import { loadConfig } from '../../src/config/env.js';
import type { KeyringState } from '../../src/config/env.js';

/**
 * The key hierarchy with the `local` KEK provider on a real SQLite file: data keys made, wrapped,
 * promoted, rewrapped and loaded the way the hook loads them at start. (The PKCS#11 provider runs the
 * same wrapping inside a token; the integration test starts Directus with it.)
 */
const kek1 = randomBytes(32);
const kek2 = randomBytes(32);
const label = (raw: Buffer) => keyId(raw);
const direct = randomBytes(32);
const ctx = { collection: 'c', field: 'f', pk: 'row-1' };

let dir: string;
let db: Knex;

beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), 'key-hierarchy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
	db = knex({ client: 'sqlite3', connection: { filename: join(dir, `${randomBytes(4).toString('hex')}.db`) }, useNullAsDefault: true });
	await db.schema.createTable('credentials_keys', (t) => {
		t.string('key_id', 16).primary();
		t.text('canary');
		t.timestamp('created_at');
		t.text('wrapped');
		t.string('kek', 255);
		t.string('state', 16);
	});
	await db.schema.createTable('credentials_key_readers', (t) => {
		t.string('instance', 64).primary();
		t.text('key_ids');
		t.string('seen_at', 32).notNullable();
	});
});
afterEach(() => db.destroy());

/** As the runtime does at start: a fresh hierarchy (nothing unwrapped yet) over what the database holds. */
async function start(provider: KekProvider | null, directKey: Buffer | null = direct): Promise<{ state: KeyringState; hierarchy: KeyHierarchy; detail: string | null }> {
	const hierarchy = new KeyHierarchy({ previous: [], currentName: 'CREDENTIALS_ENC_KEY_B64' }, async () => provider, provider?.kind ?? null);
	const { state, detail } = await hierarchy.load(db, directKey);
	return { state, hierarchy, detail };
}
const ringOf = (state: KeyringState): Keyring => {
	if (!state.ok) throw new Error(state.error);
	return state.ring;
};

describe('wrapping a data key', () => {
	const kek = createSecretKey(kek1);
	const raw = randomBytes(32);
	const id = keyId(raw);

	it('gives the key back under its KEK, bound to its id', () => {
		const wrapped = wrapLocally(kek, raw, id);
		expect(wrapped).toMatch(/^dkw1:[A-Za-z0-9_-]+$/);
		expect(wrapped).not.toContain(raw.toString('base64url'));
		expect(unwrapLocally(kek, wrapped, id).equals(raw)).toBe(true);
	});

	it('refuses another KEK, another key id (a wrapped key copied onto another row), a changed byte and a wrong length', () => {
		const wrapped = wrapLocally(kek, raw, id);
		expect(() => unwrapLocally(createSecretKey(kek2), wrapped, id)).toThrow(UnwrapError);
		expect(() => unwrapLocally(kek, wrapped, 'deadbeef')).toThrow(UnwrapError);
		const bytes = Buffer.from(wrapped.slice(5), 'base64url');
		bytes[20]! ^= 1;
		expect(() => unwrapLocally(kek, `dkw1:${bytes.toString('base64url')}`, id)).toThrow(UnwrapError);
		expect(() => unwrapLocally(kek, `dkw1:${bytes.subarray(1).toString('base64url')}`, id)).toThrow(/wrong length/);
		expect(() => unwrapLocally(kek, 'cred:v2:xx', id)).toThrow(/not a wrapped data key/);
	});
});

describe('the configuration', () => {
	it('lets a KEK provider stand in for CREDENTIALS_ENC_KEY_B64, and names what is wrong', () => {
		const b64 = kek1.toString('base64');
		expect(loadConfig({ CREDENTIALS_KEK_PROVIDER: 'local', CREDENTIALS_KEK_LOCAL_B64: b64 }).keySource.kind).toBe('none');
		expect(loadConfig({ CREDENTIALS_KEK_PROVIDER: 'local', CREDENTIALS_KEK_LOCAL_B64: `${b64},${kek2.toString('base64')}` }).kek).toMatchObject({ kind: 'local', keks: [kek1, kek2] });
		expect(loadConfig({}).keySource).toEqual({ kind: 'invalid', error: 'CREDENTIALS_ENC_KEY_B64 not set' });
		expect(loadConfig({ CREDENTIALS_KEK_PROVIDER: 'vault' }).kek).toEqual({ kind: 'invalid', error: 'CREDENTIALS_KEK_PROVIDER "vault" is not one of: pkcs11, local' });
		expect(loadConfig({ CREDENTIALS_KEK_PROVIDER: 'local' }).kek).toEqual({ kind: 'invalid', error: 'CREDENTIALS_KEK_LOCAL_B64 not set' });
		const invalid = loadConfig({ CREDENTIALS_KEK_PROVIDER: 'local', CREDENTIALS_KEK_LOCAL_B64: 'c2hvcnQ=' }).kek;
		expect(invalid.kind).toBe('invalid');
		expect(JSON.stringify(invalid)).not.toContain('c2hvcnQ');
	});
});

describe('the key hierarchy', () => {
	const local = () => localKekProvider([kek1, kek2]);

	it('without wrapped keys is the environment’s key alone, and with neither asks for `keys init`', async () => {
		const { state } = await start(local());
		expect(ringOf(state).current.id).toBe(keyId(direct));
		const none = await start(local(), null);
		expect(none.state).toEqual({ ok: false, error: 'no data key yet: run `npx directus credentials keys init`' });
	});

	it('with no key in the environment, reports the first wrapped key read while pending, so it can be promoted', async () => {
		const running = await start(local(), null);
		expect(running.state.ok).toBe(false);
		const id = await createDataKey(db, local(), label(kek1));
		const reloaded = await running.hierarchy.load(db, null);
		expect(reloaded.state).toEqual({ ok: false, error: 'no data key yet: run `npx directus credentials keys init`' });
		expect(running.hierarchy.unwrappedIds()).toEqual([id]);
		await recordReader(db, 'only-instance', running.hierarchy.unwrappedIds());
		await promoteWhenRead(db, id, { waitMs: 0, readerTtlMs: 60_000 });
		expect(ringOf((await running.hierarchy.load(db, null)).state).current.id).toBe(id);
	});

	it('writes with a promoted wrapped key, keeps the environment’s for reading, and opens both after a restart', async () => {
		const before = sealValue(ringOf((await start(local())).state), 'old secret', ctx);
		const id = await createDataKey(db, local(), label(kek1));
		// Pending: loaded (readable) but not yet written with.
		const pending = await start(local());
		expect(ringOf(pending.state).current.id).toBe(keyId(direct));
		expect(ringOf(pending.state).byId(id)).toBeDefined();
		await promoteWhenRead(db, id, { waitMs: 0, readerTtlMs: 60_000 });
		const after = ringOf((await start(local())).state);
		expect(after.current.id).toBe(id);
		expect(after.byId(keyId(direct))).toBeDefined();
		const sealed = sealValue(after, 'new secret', ctx);
		expect(sealed).toContain(`:${id}:`);
		const restarted = ringOf((await start(local())).state);
		expect(openEnvelope(restarted, sealed, ctx)).toBe('new secret');
		expect(openEnvelope(restarted, before, ctx)).toBe('old secret');
		// No raw key in the database: only the wrapped form and a canary.
		const stored = JSON.stringify(await db('credentials_keys').select());
		for (const raw of [kek1, kek2]) expect(stored).not.toContain(raw.toString('base64'));
	});

	it('rewraps every data key under another KEK without touching a value; the old KEK can then go', async () => {
		const first = await createDataKey(db, local(), label(kek1));
		await promoteWhenRead(db, first, { waitMs: 0, readerTtlMs: 60_000 });
		const second = await createDataKey(db, local(), label(kek1));
		await promoteWhenRead(db, second, { waitMs: 0, readerTtlMs: 60_000 });
		const sealedUnderSecond = sealValue(ringOf((await start(local())).state), 'rewrapped', ctx);

		const report = await rewrapAll(db, local(), label(kek2));
		expect(report.rewrapped.sort()).toEqual([first, second].sort());
		expect((await rewrapAll(db, local(), label(kek2))).already.sort()).toEqual([first, second].sort());
		expect((await readWrappedKeys(db)).map((r) => r.kek)).toEqual([label(kek2), label(kek2)]);

		const onlySecondKek = localKekProvider([kek2]);
		const restarted = await start(onlySecondKek);
		expect(openEnvelope(ringOf(restarted.state), sealedUnderSecond, ctx)).toBe('rewrapped');
		expect(ringOf(restarted.state).current.id).toBe(second);
	});

	it('fails closed at start when a wrapped key does not unwrap, saying why in the log and only "keys unavailable" in answers', async () => {
		const id = await createDataKey(db, local(), label(kek1));
		await promoteWhenRead(db, id, { waitMs: 0, readerTtlMs: 60_000 });
		const rowsBefore = await db('credentials_keys').select();

		const withoutKek1 = await start(localKekProvider([kek2]));
		expect(withoutKek1.state).toEqual({ ok: false, error: KEYS_UNAVAILABLE });
		expect(withoutKek1.detail).toContain(`"${label(kek1)}" is not in CREDENTIALS_KEK_LOCAL_B64`);
		expect(withoutKek1.hierarchy.view()).toMatchObject({ provider: 'local', wrapped: [{ keyId: id, unwrapped: false }] });

		const noProvider = await start(null);
		expect(noProvider.state).toEqual({ ok: false, error: KEYS_UNAVAILABLE });
		expect(noProvider.detail).toMatch(/wrapped, but CREDENTIALS_KEK_PROVIDER is not set/);

		const broken = await start({ ...local(), unwrap: async () => Promise.reject(new Error('token not present')) });
		expect(broken.detail).toContain('token not present');
		expect(await db('credentials_keys').select()).toEqual(rowsBefore);
	});

	it('after start, keeps serving when a new key does not unwrap here, and reports it unread so it cannot be promoted', async () => {
		const running = await start(localKekProvider([kek1]));
		const current = ringOf(running.state).current.id;
		const id = await createDataKey(db, localKekProvider([kek2]), label(kek2));
		const reloaded = await running.hierarchy.load(db, direct);
		expect(ringOf(reloaded.state).current.id).toBe(current);
		expect(reloaded.detail).toContain(id);
		expect(running.hierarchy.unwrappedIds()).not.toContain(id);
		expect(running.hierarchy.view().problem).toContain(id);

		await recordReader(db, 'instance-a', running.hierarchy.unwrappedIds());
		const refused = promoteWhenRead(db, id, { waitMs: 50, stepMs: 10, readerTtlMs: 60_000 });
		await expect(refused).rejects.toBeInstanceOf(PromotionRefused);
		await expect(refused).rejects.toThrow(/instance-a/);
		expect((await readWrappedKeys(db)).find((r) => r.keyId === id)?.state).toBe('pending');

		// A report over an hour old is an instance long gone: it holds nothing back.
		await db('credentials_key_readers').insert({ instance: 'gone', key_ids: '', seen_at: new Date(Date.now() - 61 * 60_000).toISOString() });
		// A new key that does not unwrap here stays out of the keyring: this instance does not report it.
		expect(running.hierarchy.unwrappedIds()).toEqual([]);
		// Once the instance reads it, the promotion goes through.
		await recordReader(db, 'instance-a', [id]);
		await promoteWhenRead(db, id, { waitMs: 0, readerTtlMs: 60_000 });
		expect((await readWrappedKeys(db)).map((r) => r.state)).toEqual(['current']);
	});

	it('waits for an instance whose report stops changing only as long as the time to live, on its own clock (hosts’ clocks may differ)', async () => {
		const id = await createDataKey(db, local(), label(kek1));
		// Written an hour ahead by a host whose clock is fast: still judged by whether it changes.
		await db('credentials_key_readers').insert({ instance: 'fast-clock', key_ids: '', seen_at: new Date(Date.now() + 3_600_000).toISOString() });
		const started = Date.now();
		const promoted = await promoteWhenRead(db, id, { waitMs: 5_000, readerTtlMs: 300, stepMs: 20 });
		expect(Date.now() - started).toBeGreaterThanOrEqual(300);
		expect(promoted.readers).toBe(0);
		// A live one (its report changes) is waited for until it reads the key.
		const next = await createDataKey(db, local(), label(kek1));
		let beats = 0;
		const heartbeat = setInterval(() => void recordReader(db, 'live', ++beats > 10 ? [next] : [], Date.now() + beats), 50);
		try {
			const second = await promoteWhenRead(db, next, { waitMs: 5_000, readerTtlMs: 300, stepMs: 20 });
			expect(beats).toBeGreaterThan(10);
			expect(second.readers).toBe(1);
		} finally {
			clearInterval(heartbeat);
		}
		expect((await readWrappedKeys(db)).find((r) => r.keyId === next)?.state).toBe('current');
	});

	it('keeps keys unwrapped at start in memory when the KEK goes away later (until restart)', async () => {
		const id = await createDataKey(db, local(), label(kek1));
		await promoteWhenRead(db, id, { waitMs: 0, readerTtlMs: 60_000 });
		let present = true;
		const provider = local();
		const hierarchy = new KeyHierarchy({ previous: [], currentName: 'x' }, async () => ({ ...provider, unwrap: (...a) => (present ? provider.unwrap(...a) : Promise.reject(new Error('token removed'))) }), 'local');
		const sealed = sealValue(ringOf((await hierarchy.load(db, null)).state), 'kept', ctx);
		present = false;
		await db('credentials_keys').where('key_id', id).update({ kek: label(kek1) + 'x' }); // a change makes it read the rows again
		const again = await hierarchy.load(db, null);
		expect(openEnvelope(ringOf(again.state), sealed, ctx)).toBe('kept');
	});

	it('is never deleted by the start-up key check, even when this process has not loaded it yet', async () => {
		const id = await createDataKey(db, local(), label(kek1));
		const notYetLoaded = makeKeyring(direct);
		const check = await checkKeys(db, notYetLoaded, []);
		expect(check.info.join(' ')).not.toContain(id);
		expect(await db('credentials_keys').where('key_id', id).first()).toBeDefined();
	});
});

describe('the KEK provider', () => {
	const supplyWith = (openProvider: () => KekProvider | null) =>
		keySupply({ direct: Promise.resolve({ ok: true, key: direct }), previous: [], currentName: 'x', kek: { kind: 'local', keks: [kek1] }, onKeyIds: () => undefined, openProvider });

	it('is opened again after a failure that may pass (a token plugged back in), never after a refused PIN', async () => {
		let opened = 0;
		const missingToken = supplyWith(() => {
			opened++;
			throw new KekUnavailableError('no token labelled "creds" is present');
		});
		await expect(missingToken.kek()).rejects.toThrow(/no token/);
		await expect(missingToken.kek()).rejects.toThrow(/no token/);
		expect(opened).toBe(2);

		let tried = 0;
		const refusedPin = supplyWith(() => {
			tried++;
			throw new KekUnavailableError('the PIN for token "creds" was refused (CKR_PIN_INCORRECT)', false);
		});
		for (let i = 0; i < 3; i++) await expect(refusedPin.kek()).rejects.toThrow(/PIN/);
		expect(tried).toBe(1);
	});

	it('is opened again when its session is lost, the old one closed first; a usable one is kept', async () => {
		let lost = false;
		let closed = 0;
		let opened = 0;
		const supply = supplyWith(() => {
			opened++;
			return { ...localKekProvider([kek1]), usable: () => !lost, close: async () => void closed++ };
		});
		const first = await supply.kek();
		expect(await supply.kek()).toBe(first);
		lost = true;
		await supply.kek();
		expect([opened, closed]).toEqual([2, 1]);
	});
});
