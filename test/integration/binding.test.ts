import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyId, makeKeyring, openEnvelopeBinding, type Keyring } from '../../src/crypto/index.js';
import type { FieldHealth } from '../../src/contracts/studio.js';
import { sealWithBinding } from '../unit/helpers.js';
import { newKeyB64, type Instance } from '../../tools/harness/directus.js';
import { useDirectus, type Api } from './fixture.js';

/**
 * Every value is bound to one canonical form of its row's key (a UUID in lower case), whatever
 * spelling a client sent and whatever each database keeps: PostgreSQL stores a uuid in lower case,
 * MariaDB keeps the case as typed and compares without it, SQLite keeps it and compares with it.
 * Runs on SQLite, PostgreSQL and MariaDB.
 */
const suite = useDirectus();
let directus: Instance;
let api: Api;
let keyB64: string;
const CONNECTIONS = 'platform_connections';
const FIELD = 'encrypted_credentials';

const upper = () => randomUUID().toUpperCase();
const ringOf = (...keys: string[]): Keyring => makeKeyring(Buffer.from(keys[0]!, 'base64'), keys.slice(1).map((k) => Buffer.from(k, 'base64')));
const server = () => ({ 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! });
const reveal = (id: string) => api('POST', '/credentials/reveal', { body: { creatorProfileId: id }, headers: server() });
const json = (out: { stdout: string }) => JSON.parse(out.stdout.trim().split('\n').pop()!);
const cli = async (...args: string[]) => {
	const out = await directus.cli(['credentials', ...args, '--json']);
	return { code: out.code, summary: json(out) };
};
/** The stored row, read straight from the database, whatever case its key is kept in. */
const stored = async (id: string) => {
	const [row] = await directus.db.query<{ id: string; value: string }>(`select id, ${FIELD} as value from ${CONNECTIONS} where lower(cast(id as char(36))) = ?`, id.toLowerCase());
	expect(row, `row ${id}`).toBeDefined();
	return row!;
};
/** How the stored envelope opens for the row's own key: canonically, or only under an earlier spelling. */
const bindingOf = async (id: string, ring: Keyring) => {
	const row = await stored(id);
	return openEnvelopeBinding(ring, row.value, { collection: CONNECTIONS, field: FIELD, pk: row.id });
};

/** A row written the way versions before canonical binding did: its value bound to the upper-case spelling. */
async function insertSealedTheOldWay(storedId: string, value: unknown) {
	const envelope = sealWithBinding(Buffer.from(keyB64, 'base64'), value, { collection: CONNECTIONS, field: FIELD, pk: storedId }, storedId.toUpperCase());
	const [admin] = await directus.db.query<{ id: string }>(`select id from directus_users limit 1`);
	await directus.db.execute(`insert into ${CONNECTIONS} (id, owner, platform, platform_username, ${FIELD}) values (?, ?, 'instagram', ?, ?)`, storedId, admin!.id, `old-${storedId.slice(0, 8)}`, envelope);
}

beforeAll(() => {
	({ directus, api } = suite);
	keyB64 = directus.env.CREDENTIALS_ENC_KEY_B64!;
});

describe('a row created through /items with an upper-case UUID', () => {
	const id = upper();
	const credentials = { username: 'swift-client', password: 'Upper-Case-Id-Secret' };

	beforeAll(async () => {
		const created = await api('POST', `/items/${CONNECTIONS}`, { token: directus.adminToken, body: { id, platform: 'instagram', platform_username: 'swift', [FIELD]: credentials } });
		expect(created.status).toBe(200);
		// Stored in the canonical form on every database, so no two rows can differ only in case.
		expect(created.body.data.id).toBe(id.toLowerCase());
		expect((await stored(id)).id).toBe(id.toLowerCase());
	});

	it('is stored in lower case also when created without its secret, which is then bound to that key', async () => {
		const bare = upper();
		const created = await api('POST', `/items/${CONNECTIONS}`, { token: directus.adminToken, body: { id: bare, platform: 'instagram', platform_username: 'bare' } });
		expect(created.status, created.text).toBe(200);
		expect(created.body.data.id).toBe(bare.toLowerCase());
		const stored2 = await api('POST', '/credentials/store', { body: { creatorProfileId: bare, credentials: { later: true } }, headers: server() });
		expect(stored2.body).toMatchObject({ success: true, creatorProfileId: bare.toLowerCase() });
		expect(await bindingOf(bare, ringOf(keyB64))).toEqual({ value: { later: true }, canonical: true });
	});

	it('reveals with either spelling, answering with the row key', async () => {
		for (const spelling of [id, id.toLowerCase()]) {
			const res = await reveal(spelling);
			expect(res.status, res.text).toBe(200);
			expect(res.body).toEqual({ success: true, creatorProfileId: id.toLowerCase(), credentials });
		}
	});

	it('serves the other routes with either spelling: store, field-status, sessions, download credentials', async () => {
		const stored2 = await api('POST', '/credentials/store', { body: { creatorProfileId: id, credentials: { api_key: 'sk-upper' } }, headers: server() });
		expect(stored2.status, stored2.text).toBe(200);
		expect((await reveal(id.toLowerCase())).body.credentials).toEqual({ api_key: 'sk-upper' });

		const status = await api('GET', `/credentials/field-status?collection=${CONNECTIONS}&field=${FIELD}&id=${id}`, { token: directus.adminToken });
		expect(status.status, status.text).toBe(200);
		expect(status.body).toMatchObject({ set: true, format: 'cred:v2', decryptable: true });

		const session = await api('POST', '/credentials/store-platform-session', {
			token: directus.adminToken,
			body: { creator_profile_id: id, platform: 'instagram', cookies: [{ name: 'sessionid', value: 'upper-cookie', domain: '.instagram.com' }] },
		});
		expect(session.status, session.text).toBe(200);
		const got = await api('POST', '/credentials/get-platform-session', { body: { creator_profile_id: id.toLowerCase(), platform: 'instagram' }, headers: server() });
		expect(got.status, got.text).toBe(200);
		expect(got.body.cookies[0].value).toBe('upper-cookie');

		const download = await api('POST', '/credentials/create-download-cred', {
			token: directus.adminToken,
			body: { platform: 'youtube', creator_profile_id: id, auth_type: 'password', credentials: { password: 'yt-upper' } },
		});
		expect(download.status, download.text).toBe(200);
		const dl = await api('POST', '/credentials/reveal-download-cred', { body: { id: String(download.body.id).toUpperCase() }, headers: server() });
		expect(dl.status, dl.text).toBe(200);
		expect(dl.body).toMatchObject({ id: download.body.id, credentials: { password: 'yt-upper' } });
	});

	it('verifies, and rotates to a new key, after which both spellings still reveal', async () => {
		const verified = await cli('verify');
		expect(verified.code).toBe(0);
		expect(verified.summary).toMatchObject({ ok: true, failed: 0, earlierBinding: 0 });

		const next = newKeyB64();
		await directus.restart({ CREDENTIALS_ENC_KEY_B64: next, CREDENTIALS_ENC_PREVIOUS_KEYS_B64: keyB64 });
		const rotated = await cli('rotate');
		expect(rotated.code).toBe(0);
		expect(rotated.summary.failed).toBe(0);
		expect((await stored(id)).value.startsWith(`cred:v2:${keyId(Buffer.from(next, 'base64'))}:`)).toBe(true);
		expect((await bindingOf(id, ringOf(next))).canonical).toBe(true);
		for (const spelling of [id, id.toLowerCase()]) expect((await reveal(spelling)).body.credentials).toEqual({ api_key: 'sk-upper' });
		// Back to the first key for the rest of the file (rotated rows stay readable under it as a previous key).
		await directus.restart({ CREDENTIALS_ENC_KEY_B64: keyB64, CREDENTIALS_ENC_PREVIOUS_KEYS_B64: next });
		expect((await cli('rotate')).summary.failed).toBe(0);
	});
});

describe('rows sealed before the binding was canonical', () => {
	// PostgreSQL stored these keys in lower case while the value was bound to the upper case the client sent.
	const lowerStored = randomUUID();
	// MariaDB and SQLite kept the key as the client typed it.
	const upperStored = upper();
	const touched = randomUUID();

	beforeAll(async () => {
		await insertSealedTheOldWay(lowerStored, { legacy: 'lower-stored' });
		await insertSealedTheOldWay(upperStored, { legacy: 'upper-stored' });
		await insertSealedTheOldWay(touched, { legacy: 'touched' });
	});

	it('still open through every reveal spelling', async () => {
		for (const [id, value] of [
			[lowerStored, { legacy: 'lower-stored' }],
			[upperStored, { legacy: 'upper-stored' }],
		] as const) {
			for (const spelling of [id.toLowerCase(), id.toUpperCase()]) {
				const res = await reveal(spelling);
				expect(res.status, res.text).toBe(200);
				expect(res.body.credentials).toEqual(value);
			}
		}
	});

	it('cannot be shadowed by a new row whose key differs only in case', async () => {
		// SQLite would hold both, and both would share one binding; PostgreSQL and MariaDB refuse the pair themselves.
		const res = await api('POST', `/items/${CONNECTIONS}`, { token: directus.adminToken, body: { id: upperStored.toLowerCase(), platform: 'instagram', [FIELD]: { shadow: true } } });
		expect(res.status, res.text).toBe(400);
		const rows = await directus.db.query(`select id from ${CONNECTIONS} where lower(cast(id as char(36))) = ?`, upperStored.toLowerCase());
		expect(rows).toHaveLength(1);
		expect((await reveal(upperStored)).body.credentials).toEqual({ legacy: 'upper-stored' });
	});

	it('are counted by verify as bound to an earlier spelling, not as failures, and status shows its counts', async () => {
		const verified = await cli('verify');
		expect(verified.code).toBe(0);
		expect(verified.summary).toMatchObject({ ok: true, failed: 0, earlierBinding: 3 });
		const status = await cli('status');
		const field = (status.summary.fields as FieldHealth[]).find((f) => f.field === `${CONNECTIONS}.${FIELD}`)!;
		expect(field).toMatchObject({ earlierBinding: 3, undecryptable: 0 });
		expect(Date.now() - Date.parse(field.verifiedAt!)).toBeLessThan(120_000);
	});

	it('are re-sealed canonically by the next write of the row', async () => {
		const patched = await api('PATCH', `/items/${CONNECTIONS}/${touched}`, { token: directus.adminToken, body: { platform_username: 'renamed' } });
		expect(patched.status, patched.text).toBe(200);
		expect(await bindingOf(touched, ringOf(keyB64))).toEqual({ value: { legacy: 'touched' }, canonical: true });
	});

	it('are re-sealed canonically by rotate, with no key change', async () => {
		expect((await bindingOf(lowerStored, ringOf(keyB64))).canonical).toBe(false);
		const rotated = await cli('rotate');
		expect(rotated.code).toBe(0);
		expect(rotated.summary).toMatchObject({ ok: true, failed: 0, rewritten: 2 });
		for (const id of [lowerStored, upperStored]) expect((await bindingOf(id, ringOf(keyB64))).canonical).toBe(true);
		expect((await reveal(upperStored.toLowerCase())).body.credentials).toEqual({ legacy: 'upper-stored' });
		expect((await cli('verify')).summary).toMatchObject({ ok: true, earlierBinding: 0 });
	});

	it('a value that opens under no spelling of its key is named by verify and left alone by rotate', async () => {
		const broken = randomUUID();
		// Bound to another row's key: neither the canonical nor an earlier spelling of this one opens it.
		await directus.db.execute(
			`insert into ${CONNECTIONS} (id, platform, ${FIELD}) values (?, 'instagram', ?)`,
			broken,
			sealWithBinding(Buffer.from(keyB64, 'base64'), 'x', { collection: CONNECTIONS, field: FIELD, pk: lowerStored }, lowerStored),
		);
		const before = (await stored(broken)).value;
		const verified = await cli('verify');
		expect(verified.code).toBe(1);
		expect(verified.summary.failures).toEqual([expect.objectContaining({ id: broken, reason: expect.stringContaining('authentication-failed') })]);
		const rotated = await cli('rotate');
		expect(rotated.summary.failed).toBe(1);
		expect((await stored(broken)).value).toBe(before);
		// Not the caller's fault: the stored data is, and the answer says so without quoting it.
		const res = await reveal(broken);
		expect(res.status).toBe(500);
		expect(res.body).toEqual({ success: false, error: 'Stored value cannot be decrypted: value does not authenticate for this row and field' });
		await directus.db.execute(`delete from ${CONNECTIONS} where id = ?`, broken);
	});
});
