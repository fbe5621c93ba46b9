import { describe, expect, it } from 'vitest';
import { makeKeyring, sealValue } from '../../src/crypto/index.js';
import { createProfile, revealConnection, updateProfileCredentials } from '../../src/services/connections.js';
import { readRaw } from '../../src/services/rows.js';
import { getPlatformSession } from '../../src/services/sessions.js';
import { createVaultEntry, readVaultEntry } from '../../src/services/vault.js';
import { serverCaller, StandIn, userCaller } from './stand-in/directus.js';
import { legacyEncrypt } from './helpers.js';
import { rowInScope } from '../../src/services/identity-scope.js';
import { decryptUtility, encryptUtility } from '../../src/services/utility.js';

/** The services' own decisions, against an in-memory stand-in of Directus (no permissions, no hook). */
const A = userCaller('user-a');
const B = userCaller('user-b');
const ring = makeKeyring(Buffer.alloc(32, 7));
const CONNECTION = '6f1c1f4e-8a43-4c1e-9a0e-2f4b3c5d6e7f';
const sealedFor = (collection: string, field: string, pk: string, value: unknown) => sealValue(ring, value, { collection, field, pk });
const errorOf = async (promise: Promise<unknown>) => promise.then(() => null, (error: { code?: string; status?: number; message?: string }) => error);

describe('readRaw', () => {
	it('reads text columns by key with one plain select, typed columns and keys a uuid column would refuse through ItemsService', async () => {
		const directus = new StandIn();
		const deps = directus.deps(ring);
		const upper = CONNECTION.toUpperCase();
		directus.table('platform_connections').push({ id: upper, owner: 'user-a', encrypted_credentials: 'cred:v2:x', platform: 'p' });
		// Any spelling finds the row; the key comes back as stored.
		expect(await readRaw(deps, 'platform_connections', CONNECTION, ['encrypted_credentials', 'platform'])).toEqual({ key: upper, row: { id: upper, encrypted_credentials: 'cred:v2:x', platform: 'p' } });
		expect(directus.reads).toEqual({ items: 0, select: 1 });

		directus.table('platform_sessions').push({ id: CONNECTION, captured_at: '2026-01-01T00:00:00.000Z', encrypted_cookies: 'cred:v2:y' });
		expect((await readRaw(deps, 'platform_sessions', CONNECTION, ['encrypted_cookies', 'captured_at'])).row).toMatchObject({ captured_at: '2026-01-01T00:00:00.000Z' });
		expect(directus.reads).toEqual({ items: 1, select: 1 });

		expect(await errorOf(readRaw(deps, 'platform_connections', 'not-a-uuid', ['encrypted_credentials']))).toMatchObject({ status: 404 });
		expect(directus.reads).toEqual({ items: 2, select: 1 });

		// A `conceal` field comes back masked from ItemsService: read that way, it reads the same.
		(deps.schema.collections['platform_connections']!.fields['platform']!.special as string[]).push('conceal');
		await readRaw(deps, 'platform_connections', CONNECTION, ['platform']);
		expect(directus.reads).toEqual({ items: 3, select: 1 });
	});
});

describe('connections', () => {
	it('create-profile creates once per platform and username, then updates the caller’s own connection', async () => {
		const directus = new StandIn();
		const deps = directus.deps(ring);
		const first = await createProfile(deps, A, { platform: 'youtube', platform_username: 'me', credentials: { p: 1 } });
		const again = await createProfile(deps, A, { platform: 'youtube', platform_username: 'me', credentials: { p: 2 } });
		const other = await createProfile(deps, A, { platform: 'youtube', platform_username: 'alt', credentials: { p: 3 } });
		const ofB = await createProfile(deps, B, { platform: 'youtube', platform_username: 'me', credentials: { p: 4 } });
		expect(first.updated).toBe(false);
		expect(again).toEqual({ id: first.id, updated: true });
		expect(other.updated).toBe(false);
		expect(ofB.updated).toBe(false);
		expect(directus.table('platform_connections')).toHaveLength(3);
		// No username is its own connection, found again by `is null`.
		const bare = await createProfile(deps, A, { platform: 'youtube', credentials: { p: 5 } });
		expect(await createProfile(deps, A, { platform: 'youtube', credentials: { p: 6 } })).toEqual({ id: bare.id, updated: true });
		// The lookup is one plain select on the caller's own rows, not an ItemsService read.
		expect(directus.reads.items).toBe(0);
		expect(directus.table('platform_connections')).toHaveLength(4);
	});

	it('update-profile-creds: another owner’s row is 403, a missing one 404', async () => {
		const directus = new StandIn();
		const deps = directus.deps(ring);
		directus.table('platform_connections').push({ id: CONNECTION, owner: 'user-a', platform: 'x' });
		expect(await errorOf(updateProfileCredentials(deps, B, { creator_profile_id: CONNECTION, credentials: {} }))).toMatchObject({ status: 403 });
		expect(await errorOf(updateProfileCredentials(deps, A, { creator_profile_id: '00000000-0000-4000-8000-000000000000', credentials: {} }))).toMatchObject({ status: 404 });
		expect(await updateProfileCredentials(deps, A, { creator_profile_id: CONNECTION, credentials: { p: 1 } })).toEqual({ id: CONNECTION });
	});

	it('reveal writes its audit entry before it answers; an empty value and an undecryptable one are written as what they were', async () => {
		const directus = new StandIn();
		const deps = directus.deps(ring);
		const rows = directus.table('platform_connections');
		const audit = directus.table('credentials_audit');
		rows.push({ id: CONNECTION, owner: 'user-a', encrypted_credentials: sealedFor('platform_connections', 'encrypted_credentials', CONNECTION, { p: 'AUDIT-CANARY' }) });
		expect(await revealConnection(deps, serverCaller, { creatorProfileId: CONNECTION })).toEqual({ creatorProfileId: CONNECTION, credentials: { p: 'AUDIT-CANARY' } });
		expect(audit).toMatchObject([
			{ route: 'reveal', caller: 'shared-secret', identity: null, user: null, collection: 'platform_connections', item: CONNECTION, outcome: 'revealed', ip: '10.0.0.1', user_agent: 'worker' },
		]);

		rows[0]!['encrypted_credentials'] = null;
		expect(await errorOf(revealConnection(deps, serverCaller, { creatorProfileId: CONNECTION }))).toMatchObject({ status: 404, message: 'No encrypted_credentials found' });
		expect(audit.at(-1)).toMatchObject({ item: CONNECTION, outcome: 'not-found' });

		rows[0]!['encrypted_credentials'] = sealedFor('platform_connections', 'encrypted_credentials', 'another-row', { p: 'x' });
		expect(await errorOf(revealConnection(deps, serverCaller, { creatorProfileId: CONNECTION }))).toMatchObject({ status: 500, code: 'CREDENTIALS_UNDECRYPTABLE' });
		expect(audit.at(-1)).toMatchObject({ item: CONNECTION, outcome: 'undecryptable' });
		expect(audit).toHaveLength(3);
		expect(JSON.stringify(audit)).not.toContain('AUDIT-CANARY');
		expect(directus.table('directus_activity')).toHaveLength(0);
	});

	it('a machine identity reaches only the platforms and collections of its scope: others are missing (404), and written as such', async () => {
		const directus = new StandIn();
		const deps = directus.deps(ring);
		const rows = directus.table('platform_connections');
		const other = '22222222-2222-4222-8222-222222222222';
		rows.push({ id: CONNECTION, owner: 'user-a', platform: 'instagram', encrypted_credentials: sealedFor('platform_connections', 'encrypted_credentials', CONNECTION, { p: 'ig' }) });
		rows.push({ id: other, owner: 'user-a', platform: 'tiktok', encrypted_credentials: sealedFor('platform_connections', 'encrypted_credentials', other, { p: 'tt' }) });
		const identity = { id: 'identity-1', name: 'scraper', routes: ['reveal' as const], collections: null, platforms: ['instagram'], services: null, rateLimit: null };
		const scraper = { ...serverCaller, identity };
		expect((await revealConnection(deps, scraper, { creatorProfileId: CONNECTION })).credentials).toEqual({ p: 'ig' });
		expect(await errorOf(revealConnection(deps, scraper, { creatorProfileId: other }))).toMatchObject({ status: 404 });
		const elsewhere = { ...serverCaller, identity: { ...identity, platforms: null, collections: ['api_credentials'] } };
		expect(await errorOf(revealConnection(deps, elsewhere, { creatorProfileId: CONNECTION }))).toMatchObject({ status: 404 });
		expect(directus.table('credentials_audit')).toMatchObject([
			{ caller: 'identity', identity: 'identity-1', identity_name: 'scraper', item: CONNECTION, outcome: 'revealed' },
			{ caller: 'identity', identity_name: 'scraper', item: other, outcome: 'not-found' },
			{ caller: 'identity', item: CONNECTION, outcome: 'not-found' },
		]);
	});
});

describe('machine identities at the edges of their scope', () => {
	const identity = { id: 'identity-2', name: 'ig', routes: ['get-platform-session' as const, 'decrypt' as const], collections: null, platforms: ['instagram'], services: null, rateLimit: null };
	const scoped = { ...serverCaller, identity };

	it('get-platform-session outside the platforms answers as no session, before any search', async () => {
		const directus = new StandIn();
		const deps = directus.deps(ring);
		directus.table('platform_sessions').push({ id: 's1', creator_profile_id: CONNECTION, platform: 'tiktok', encrypted_cookies: sealedFor('platform_sessions', 'encrypted_cookies', 's1', []), captured_at: new Date().toISOString(), expires_at: null, revoked_at: null });
		const outside = await errorOf(getPlatformSession(deps, scoped, { creator_profile_id: CONNECTION, platform: 'tiktok' }));
		const none = await errorOf(getPlatformSession(deps, scoped, { creator_profile_id: CONNECTION, platform: 'instagram' }));
		expect(outside).toMatchObject({ status: 404, message: 'No active platform session found' });
		expect(none).toMatchObject({ status: 404, message: 'No active platform session found' });
	});

	it('a row with no platform, or read without its scope column, is outside; a collection without the column is not restricted', () => {
		const columns = { id: {}, platform: {} };
		expect(rowInScope(scoped, { id: 'r', platform: 'instagram' }, columns)).toBe(true);
		expect(rowInScope(scoped, { id: 'r', platform: null }, columns)).toBe(false);
		expect(rowInScope(scoped, { id: 'r' }, columns)).toBe(false);
		expect(rowInScope(scoped, { id: 'r' }, { id: {} })).toBe(true);
		expect(rowInScope(serverCaller, { id: 'r', platform: 'x' }, columns)).toBe(true);
	});

	it('the utility opens a legacy value (no row named) for the shared secret, never for an identity limited to some rows', async () => {
		const key = Buffer.alloc(32, 7);
		const directus = new StandIn();
		const deps = directus.deps(ring);
		const legacy = legacyEncrypt(key, { copied: 'from a row' });
		expect(await decryptUtility(deps, serverCaller, { encrypted: legacy })).toEqual({ copied: 'from a row' });
		expect(await errorOf(decryptUtility(deps, scoped, { encrypted: legacy }))).toMatchObject({ status: 400, message: expect.stringMatching(/legacy format/) });
		const fromEncrypt = encryptUtility(deps, { made: 'by /encrypt' }).enc;
		expect(await decryptUtility(deps, scoped, { encrypted: fromEncrypt })).toEqual({ made: 'by /encrypt' });
	});
});

describe('sessions', () => {
	it('get-platform-session reveals the newest session that is neither revoked nor expired', async () => {
		const directus = new StandIn();
		const deps = directus.deps(ring);
		const session = (id: string, captured: string, extra: Record<string, unknown> = {}) => ({
			id,
			creator_profile_id: CONNECTION,
			platform: 'youtube',
			captured_at: captured,
			expires_at: null,
			revoked_at: null,
			user_agent: 'ua',
			encrypted_cookies: sealedFor('platform_sessions', 'encrypted_cookies', id, [{ name: id }]),
			...extra,
		});
		directus.table('platform_sessions').push(
			session('s-old', '2026-01-01T00:00:00.000Z'),
			session('s-revoked', '2026-03-01T00:00:00.000Z', { revoked_at: '2026-03-02T00:00:00.000Z' }),
			session('s-expired', '2026-04-01T00:00:00.000Z', { expires_at: '2026-04-02T00:00:00.000Z' }),
			session('s-good', '2026-02-01T00:00:00.000Z', { expires_at: '2099-01-01T00:00:00.000Z' }),
		);
		const found = await getPlatformSession(deps, serverCaller, { creator_profile_id: CONNECTION, platform: 'youtube' });
		expect(found).toMatchObject({ id: 's-good', cookies: [{ name: 's-good' }], expires_at: '2099-01-01T00:00:00.000Z' });
		expect(await errorOf(getPlatformSession(deps, serverCaller, { creator_profile_id: CONNECTION, platform: 'tiktok' }))).toMatchObject({ status: 404 });

		// A case-sensitive database may hold the profile's key in upper case: found from the lower-case spelling too,
		// while a profile whose key is the spelling given keeps its own sessions (the key as given comes first).
		const upper = CONNECTION.toUpperCase();
		directus.table('platform_sessions').push(session('s-upper', '2026-05-01T00:00:00.000Z', { creator_profile_id: upper }));
		expect(await getPlatformSession(deps, serverCaller, { creator_profile_id: upper, platform: 'youtube' })).toMatchObject({ id: 's-upper' });
		expect(await getPlatformSession(deps, serverCaller, { creator_profile_id: CONNECTION, platform: 'youtube' })).toMatchObject({ id: 's-good' });
		// The spelling given has only expired and revoked sessions left: the other spelling's active one answers.
		directus.table('platform_sessions').splice(0, 1);
		directus.table('platform_sessions').splice(directus.table('platform_sessions').findIndex((s) => s['id'] === 's-good'), 1);
		expect(await getPlatformSession(deps, serverCaller, { creator_profile_id: CONNECTION, platform: 'youtube' })).toMatchObject({ id: 's-upper' });
	});
});

describe('vault', () => {
	it('a duplicate name is a 409 that names it; another owner’s entry reads as missing', async () => {
		const directus = new StandIn();
		const deps = directus.deps(ring);
		const entry = await createVaultEntry(deps, A, { service: 'openai', name: 'main', key: 'sk-1' });
		directus.failNextCreate.set('api_credentials', Object.assign(new Error('not unique'), { code: 'RECORD_NOT_UNIQUE' }));
		expect(await errorOf(createVaultEntry(deps, A, { service: 'openai', name: 'main', key: 'sk-2' }))).toMatchObject({ status: 409, message: 'A credential named "main" already exists for openai' });
		expect(await readVaultEntry(deps, A, entry.id)).toMatchObject({ id: entry.id, service: 'openai', name: 'main' });
		expect(await errorOf(readVaultEntry(deps, B, entry.id))).toMatchObject({ status: 404 });
	});
});
