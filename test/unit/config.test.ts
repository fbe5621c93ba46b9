import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentKeys, loadConfig, type KeySource } from '../../src/config/env.js';
import { keyId } from '../../src/crypto/index.js';
import { keySupply } from '../../src/keys/supply.js';
import { collidingKeyPair } from './helpers.js';

const b64 = (n: number) => randomBytes(n).toString('base64');
const fakeDerive = async () => Buffer.alloc(32, 7);

// The keyring is built as the server builds it: the environment's keys through the key hierarchy, over a
// database with no wrapped keys (an SQLite file with no keys table).
let dir: string;
let db: Knex;
beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), 'config-'));
	db = knex({ client: 'sqlite3', connection: { filename: join(dir, 'empty.db') }, useNullAsDefault: true });
});
afterAll(async () => {
	await db.destroy();
	rmSync(dir, { recursive: true, force: true });
});
function keyringFor(source: KeySource, derive: Parameters<typeof environmentKeys>[1] = fakeDerive) {
	const supply = keySupply({ ...environmentKeys(source, derive), kek: { kind: 'none' }, onKeyIds: () => undefined });
	supply.attach(db, { error: () => undefined, info: () => undefined });
	return supply.keys();
}
const keysOf = (env: Record<string, unknown>) => keyringFor(loadConfig(env).keySource);

describe('configuration', () => {
	it('fails closed with a message that names the setting, never the value', async () => {
		expect(await keysOf({})).toEqual({ ok: false, error: 'CREDENTIALS_ENC_KEY_B64 not set' });
		expect(await keysOf({ CREDENTIALS_ENC_KEY_B64: '' })).toEqual({ ok: false, error: 'CREDENTIALS_ENC_KEY_B64 not set' });
		expect(await keysOf({ CREDENTIALS_ENC_KEY_B64: b64(16) })).toEqual({ ok: false, error: 'CREDENTIALS_ENC_KEY_B64 is invalid' });
		expect(await keysOf({ CREDENTIALS_ENC_KEY_B64: 'not base64 at all!' })).toEqual({ ok: false, error: 'CREDENTIALS_ENC_KEY_B64 is invalid' });
		expect(await keysOf({ CREDENTIALS_ENC_KEY_B64: b64(32), CREDENTIALS_ENC_PREVIOUS_KEYS_B64: `${b64(32)},${b64(31)}` })).toEqual({
			ok: false,
			error: 'CREDENTIALS_ENC_PREVIOUS_KEYS_B64 is invalid',
		});
	});

	it('builds a keyring with the current key first and previous keys for reading', async () => {
		const current = randomBytes(32);
		const previous = [randomBytes(32), randomBytes(32)];
		const keys = await keysOf({
			CREDENTIALS_ENC_KEY_B64: current.toString('base64'),
			// Directus may hand a comma list over as an array.
			CREDENTIALS_ENC_PREVIOUS_KEYS_B64: previous.map((k) => k.toString('base64url')),
		});
		if (!keys.ok) throw new Error(keys.error);
		expect(keys.ring.current.id).toBe(keyId(current));
		expect(keys.ring.previous.map((k) => k.id)).toEqual(previous.map(keyId));
		expect(keys.ring.byId(keyId(previous[1]!))).toBeDefined();
	});

	it('derives the current key from a passphrase and salt, and refuses ambiguous or incomplete settings', async () => {
		const salt = b64(16);
		const source = loadConfig({ CREDENTIALS_MASTER_PASSPHRASE: 'correct horse', CREDENTIALS_KDF_SALT_B64: salt }).keySource;
		expect(source).toMatchObject({ kind: 'passphrase', memoryKiB: 262144, iterations: 3 });
		const keys = await keyringFor(source);
		expect(keys.ok && keys.ring.current.id).toBe(keyId(Buffer.alloc(32, 7)));
		expect(await keysOf({ CREDENTIALS_MASTER_PASSPHRASE: 'p', CREDENTIALS_ENC_KEY_B64: b64(32), CREDENTIALS_KDF_SALT_B64: salt })).toEqual({
			ok: false,
			error: 'CREDENTIALS_ENC_KEY_B64 and CREDENTIALS_MASTER_PASSPHRASE are both set: set only one',
		});
		expect(await keysOf({ CREDENTIALS_MASTER_PASSPHRASE: 'p' })).toEqual({ ok: false, error: 'CREDENTIALS_KDF_SALT_B64 not set' });
		expect((await keysOf({ CREDENTIALS_MASTER_PASSPHRASE: 'p', CREDENTIALS_KDF_SALT_B64: b64(8) })).ok).toBe(false);
		expect((await keysOf({ CREDENTIALS_MASTER_PASSPHRASE: 'p', CREDENTIALS_KDF_SALT_B64: salt, CREDENTIALS_KDF_MEMORY_KIB: '12' })).ok).toBe(false);
		const failing = await keyringFor(source, async () => {
			throw new Error('no argon2');
		});
		expect(failing.ok).toBe(false);
	});

	it('parses CREDENTIALS_ENCRYPTED_FIELDS and warns about entries it cannot use', () => {
		const config = loadConfig({ CREDENTIALS_ENC_KEY_B64: b64(32), CREDENTIALS_ENCRYPTED_FIELDS: 'orders.api_token, bad-entry ,vendors.secret' });
		expect(config.extraFields).toEqual([
			{ collection: 'orders', field: 'api_token' },
			{ collection: 'vendors', field: 'secret' },
		]);
		expect(config.warnings).toHaveLength(1);
		expect(config.warnings[0]).toContain('bad-entry');
	});

	it('treats an unset server secret as closed', () => {
		expect(loadConfig({ CREDENTIALS_ENC_KEY_B64: b64(32) }).serverSecret).toBeUndefined();
		expect(loadConfig({ CREDENTIALS_ENC_KEY_B64: b64(32), RBAC_SYNC_WEBHOOK_SECRET: 's3cret' }).serverSecret).toBe('s3cret');
	});
});

describe('key ids', () => {
	it('two different keys sharing an id fail closed, naming the id and where the keys are set', async () => {
		const [a, b] = collidingKeyPair();
		expect(a.equals(b)).toBe(false);
		const asPrevious = await keysOf({ CREDENTIALS_ENC_KEY_B64: randomBytes(32).toString('base64'), CREDENTIALS_ENC_PREVIOUS_KEYS_B64: `${a.toString('base64')},${b.toString('base64')}` });
		expect(asPrevious.ok).toBe(false);
		if (asPrevious.ok) return;
		expect(asPrevious.error).toContain(keyId(a));
		expect(asPrevious.error).toContain('CREDENTIALS_ENC_PREVIOUS_KEYS_B64');
		expect(asPrevious.error).not.toContain(a.toString('base64'));
		const withCurrent = await keysOf({ CREDENTIALS_ENC_KEY_B64: a.toString('base64'), CREDENTIALS_ENC_PREVIOUS_KEYS_B64: b.toString('base64') });
		expect(withCurrent).toEqual({ ok: false, error: expect.stringContaining('CREDENTIALS_ENC_KEY_B64') });
	});

	it('the same key listed twice is still harmless', async () => {
		const key = randomBytes(32);
		const keys = await keysOf({ CREDENTIALS_ENC_KEY_B64: key.toString('base64'), CREDENTIALS_ENC_PREVIOUS_KEYS_B64: `${key.toString('base64')},${key.toString('base64url')}` });
		expect(keys.ok && keys.ring.all().length).toBe(1);
	});
});
