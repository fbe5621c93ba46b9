import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyStored, makeKeyring, openStored } from '../../src/crypto/index.js';
import { MASK } from '../../src/hook/handlers/mask-on-read.js';
import type { Instance } from '../../tools/harness/directus.js';
import { directusVersion, host } from '../../tools/harness/host.js';
import { useDirectus, type Api, type TestUser } from './fixture.js';

/**
 * The foundation, proven through a real Directus: every write path encrypts, every read masks,
 * ownership holds, copied envelopes are refused, and a canary secret is nowhere at rest.
 */
const suite = useDirectus({ env: { LOG_LEVEL: 'trace' }, users: ['a', 'b'] });
let directus: Instance;
let api: Api;
let userA: TestUser;
let userB: TestUser;
const canaries: string[] = [];
const canary = (label: string) => {
	const value = `CANARY-${label}-${randomBytes(6).toString('hex')}`;
	canaries.push(value);
	return value;
};
const ring = () => makeKeyring(Buffer.from(directus.env.CREDENTIALS_ENC_KEY_B64!, 'base64'));
const stored = async (collection: string, field: string, id: string) =>
	(await directus.db.query(`select "${field}" as v from "${collection}" where id = ?`, id))[0]?.v;
/** SQLite hands JSON columns back as text, PostgreSQL as objects. */
const jsonColumn = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
const reveal = async (collection: string, field: string, id: string) => openStored(ring(), await stored(collection, field, id), { collection, field, pk: id });

beforeAll(() => void ({ directus, api, users: [userA, userB] } = suite));

describe('setup', () => {
	it('runs on the Directus this run names (12 from this checkout, 11 in the smoke run)', async () => {
		const info = await api('GET', '/server/info', { token: directus.adminToken });
		expect(info.body.data.version).toBe(directusVersion);
	});

	it('created the collections, the policy and the role, and a second run changes nothing', async () => {
		for (const c of ['platform_connections', 'download_credentials', 'platform_sessions', 'creator_profiles']) {
			expect((await api('GET', `/collections/${c}`, { token: directus.adminToken })).status).toBe(200);
		}
		const policies = await api('GET', '/policies?filter[name][_eq]=Credentials%20Owner', { token: directus.adminToken });
		expect(policies.body.data).toHaveLength(1);
		const again = await directus.cli(['credentials', 'setup', '--json']);
		expect(again.code).toBe(0);
		expect(JSON.parse(again.stdout.trim().split('\n').pop()!)).toMatchObject({ ok: true, changes: [] });
	});
});

describe('every write path encrypts', () => {
	it('REST create: stored as a cred:v2 envelope bound to the row, answered with the mask', async () => {
		const secret = canary('rest-create');
		const res = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'instagram', encrypted_credentials: secret } });
		expect(res.status).toBe(200);
		expect(res.body.data.encrypted_credentials).toBe(MASK);
		expect(res.body.data.owner).toBe(userA.id);
		const id = res.body.data.id;
		expect(classifyStored(await stored('platform_connections', 'encrypted_credentials', id))).toMatchObject({ format: 'v2', keyId: ring().current.id });
		expect(await reveal('platform_connections', 'encrypted_credentials', id)).toBe(secret);
	});

	it('JSON fields keep their type: creator_profiles.credentials stores { enc } and reveals the object', async () => {
		const secret = { sessionToken: canary('json'), cookies: [{ name: 'sess', value: 'abc', domain: '.example.com' }] };
		const res = await api('POST', '/items/creator_profiles', { token: userA.token, body: { platform: 'onlyfans', credentials: secret } });
		expect(res.status).toBe(200);
		expect(res.body.data.credentials).toBe(MASK);
		const raw = jsonColumn(await stored('creator_profiles', 'credentials', res.body.data.id));
		expect(Object.keys(raw)).toEqual(['enc']);
		expect(await reveal('creator_profiles', 'credentials', res.body.data.id)).toEqual(secret);
	});

	it('REST batch create gives each row its own ciphertext', async () => {
		const secrets = [canary('batch-1'), canary('batch-2')];
		const res = await api('POST', '/items/platform_connections', {
			token: userA.token,
			body: secrets.map((s) => ({ platform: 'tiktok', encrypted_credentials: s })),
		});
		expect(res.status).toBe(200);
		const ids = res.body.data.map((r: { id: string }) => r.id);
		// Directus does not promise the answer's order: compare as sets, and check the ciphertexts differ.
		expect((await Promise.all(ids.map((id: string) => reveal('platform_connections', 'encrypted_credentials', id)))).sort()).toEqual([...secrets].sort());
		expect(new Set(await Promise.all(ids.map((id: string) => stored('platform_connections', 'encrypted_credentials', id)))).size).toBe(2);
	});

	it('batch update by keys and update by query encrypt per row', async () => {
		const created = await api('POST', '/items/platform_connections', {
			token: userA.token,
			body: [{ platform: 'batch' }, { platform: 'batch' }, { platform: 'batch' }],
		});
		const ids: string[] = created.body.data.map((r: { id: string }) => r.id);
		const byKeys = canary('by-keys');
		const res = await api('PATCH', '/items/platform_connections', { token: userA.token, body: { keys: ids, data: { encrypted_credentials: byKeys, platform_username: 'same' } } });
		expect(res.status).toBe(200);
		const envelopes = await Promise.all(ids.map((id) => stored('platform_connections', 'encrypted_credentials', id)));
		expect(new Set(envelopes).size).toBe(3);
		for (const id of ids) expect(await reveal('platform_connections', 'encrypted_credentials', id)).toBe(byKeys);
		expect((await directus.db.query(`select count(*) as n from platform_connections where platform_username = 'same'`))[0]!.n).toBe(3);

		const byQuery = canary('by-query');
		const res2 = await api('PATCH', '/items/platform_connections', {
			token: userA.token,
			body: { query: { filter: { platform: { _eq: 'batch' } } }, data: { encrypted_credentials: byQuery } },
		});
		expect(res2.status).toBe(200);
		for (const id of ids) expect(await reveal('platform_connections', 'encrypted_credentials', id)).toBe(byQuery);
		expect(new Set(await Promise.all(ids.map((id) => stored('platform_connections', 'encrypted_credentials', id)))).size).toBe(3);
	});

	it('GraphQL create and update encrypt', async () => {
		const first = canary('gql-create');
		const created = await api('POST', '/graphql', {
			token: userA.token,
			body: { query: `mutation { create_platform_connections_item(data: { platform: "gql", encrypted_credentials: "${first}" }) { id encrypted_credentials } }` },
		});
		expect(created.status).toBe(200);
		const item = created.body.data.create_platform_connections_item;
		expect(item.encrypted_credentials).toBe(MASK);
		expect(await reveal('platform_connections', 'encrypted_credentials', item.id)).toBe(first);
		const second = canary('gql-update');
		const updated = await api('POST', '/graphql', {
			token: userA.token,
			body: { query: `mutation { update_platform_connections_item(id: "${item.id}", data: { encrypted_credentials: "${second}" }) { id } }` },
		});
		expect(updated.status).toBe(200);
		expect(await reveal('platform_connections', 'encrypted_credentials', item.id)).toBe(second);
	});

	it('/utils/import encrypts every imported row', async () => {
		const secrets = [canary('import-1'), canary('import-2')];
		const form = new FormData();
		form.append('file', new Blob([JSON.stringify(secrets.map((s) => ({ platform: 'imported', encrypted_credentials: s })))], { type: 'application/json' }), 'rows.json');
		const res = await fetch(`${directus.url}/utils/import/platform_connections`, { method: 'POST', headers: { authorization: `Bearer ${directus.adminToken}` }, body: form });
		expect(res.ok).toBe(true);
		const rows = await directus.db.query<{ id: string }>(`select id from platform_connections where platform = 'imported'`);
		expect(rows).toHaveLength(2);
		expect((await Promise.all(rows.map((r) => reveal('platform_connections', 'encrypted_credentials', r.id)))).sort()).toEqual([...secrets].sort());
	});

	it('a flow operation encrypts what it writes, even with "Emit Events" off', async () => {
		const secret = canary('flow');
		const flowId = randomUUID();
		// No flow logs (accountability null): Directus would otherwise keep the trigger body in a revision.
		const flow = await api('POST', '/flows', {
			token: directus.adminToken,
			body: { id: flowId, name: 'write secret', status: 'active', trigger: 'webhook', accountability: null, options: { method: 'POST', async: false } },
		});
		expect(flow.status).toBe(200);
		const op = await api('POST', '/operations', {
			token: directus.adminToken,
			body: {
				flow: flowId,
				key: 'write',
				name: 'write',
				type: 'item-create',
				position_x: 19,
				position_y: 1,
				options: { collection: 'platform_connections', permissions: '$full', emitEvents: false, payload: { platform: 'flow', encrypted_credentials: '{{$trigger.body.secret}}' } },
			},
		});
		expect(op.status).toBe(200);
		expect(op.body.data.options.emitEvents).toBe(true);
		await api('PATCH', `/flows/${flowId}`, { token: directus.adminToken, body: { operation: op.body.data.id } });
		const run = await api('POST', `/flows/trigger/${flowId}`, { token: directus.adminToken, body: { secret } });
		expect(run.status).toBe(200);
		const rows = await directus.db.query<{ id: string }>(`select id from platform_connections where platform = 'flow'`);
		expect(rows).toHaveLength(1);
		expect(await reveal('platform_connections', 'encrypted_credentials', rows[0]!.id)).toBe(secret);
	});
});

describe('reads are masked for everyone', () => {
	it('admin lists, single reads, nested relations and GraphQL show the mask', async () => {
		const conn = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'yt', encrypted_credentials: canary('nested') } });
		const dl = await api('POST', '/items/download_credentials', {
			token: userA.token,
			body: { platform: 'youtube', creator_profile_id: conn.body.data.id, auth_type: 'password', encrypted_credentials: { password: canary('dl') } },
		});
		expect(dl.status).toBe(200);
		const list = await api('GET', '/items/platform_connections?limit=-1', { token: directus.adminToken });
		expect(list.body.data.length).toBeGreaterThan(3);
		for (const row of list.body.data) expect([MASK, null]).toContain(row.encrypted_credentials);
		const nested = await api('GET', `/items/download_credentials/${dl.body.data.id}?fields=*,creator_profile_id.*`, { token: directus.adminToken });
		expect(nested.body.data.encrypted_credentials).toBe(MASK);
		expect(nested.body.data.creator_profile_id.encrypted_credentials).toBe(MASK);
		const gql = await api('POST', '/graphql', { token: directus.adminToken, body: { query: '{ download_credentials { encrypted_credentials creator_profile_id { encrypted_credentials } } }' } });
		for (const row of gql.body.data.download_credentials) {
			expect(row.encrypted_credentials).toBe(MASK);
			expect(row.creator_profile_id.encrypted_credentials).toBe(MASK);
		}
	});

	it('sending the mask back leaves the secret unchanged', async () => {
		const secret = canary('echo');
		const res = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'echo', encrypted_credentials: secret } });
		const before = await stored('platform_connections', 'encrypted_credentials', res.body.data.id);
		const echo = await api('PATCH', `/items/platform_connections/${res.body.data.id}`, { token: userA.token, body: { ...res.body.data, platform_username: 'changed' } });
		expect(echo.status).toBe(200);
		expect(await stored('platform_connections', 'encrypted_credentials', res.body.data.id)).toBe(before);
		expect(await reveal('platform_connections', 'encrypted_credentials', res.body.data.id)).toBe(secret);
	});
});

describe('ownership', () => {
	let aRow: string;
	beforeAll(async () => {
		const res = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'owned', encrypted_credentials: canary('owned') } });
		aRow = res.body.data.id;
	});

	it('user B cannot read, list, update or delete user A’s rows', async () => {
		expect((await api('GET', `/items/platform_connections/${aRow}`, { token: userB.token })).status).toBe(403);
		const list = await api('GET', '/items/platform_connections?limit=-1', { token: userB.token });
		expect(list.status).toBe(200);
		expect(list.body.data.map((r: { id: string }) => r.id)).not.toContain(aRow);
		expect((await api('PATCH', `/items/platform_connections/${aRow}`, { token: userB.token, body: { encrypted_credentials: 'taken over' } })).status).toBe(403);
		expect((await api('PATCH', '/items/platform_connections', { token: userB.token, body: { keys: [aRow], data: { platform: 'x' } } })).status).toBe(403);
		expect((await api('DELETE', `/items/platform_connections/${aRow}`, { token: userB.token })).status).toBe(403);
		const count = await api('GET', '/items/platform_connections?aggregate[count]=*', { token: userB.token });
		expect(Number(count.body.data[0].count)).toBe(0);
		expect(await reveal('platform_connections', 'encrypted_credentials', aRow)).toMatch(/^CANARY-owned-/);
	});

	it('user B cannot attach a row to A’s connection or take a row over', async () => {
		const attach = await api('POST', '/items/download_credentials', {
			token: userB.token,
			body: { platform: 'youtube', creator_profile_id: aRow, auth_type: 'password', encrypted_credentials: { password: 'x' } },
		});
		expect(attach.status).toBe(403);
		const own = await api('POST', '/items/platform_connections', { token: userB.token, body: { platform: 'b' } });
		expect((await api('PATCH', `/items/platform_connections/${own.body.data.id}`, { token: userB.token, body: { owner: userA.id } })).status).toBe(403);
	});

	it('user A can read, update and delete their own rows; anonymous sees nothing', async () => {
		expect((await api('GET', `/items/platform_connections/${aRow}`, { token: userA.token })).status).toBe(200);
		const next = canary('owned-update');
		expect((await api('PATCH', `/items/platform_connections/${aRow}`, { token: userA.token, body: { encrypted_credentials: next } })).status).toBe(200);
		expect(await reveal('platform_connections', 'encrypted_credentials', aRow)).toBe(next);
		expect((await api('GET', '/items/platform_connections')).status).toBe(403);
		const temp = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'temp' } });
		expect((await api('DELETE', `/items/platform_connections/${temp.body.data.id}`, { token: userA.token })).status).toBe(204);
	});
});

describe('envelopes stay with their row', () => {
	it('a copied envelope is refused with 400; the row’s own envelope passes unchanged', async () => {
		const one = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'copy', encrypted_credentials: canary('copy-1') } });
		const two = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'copy', encrypted_credentials: canary('copy-2') } });
		const envOne = await stored('platform_connections', 'encrypted_credentials', one.body.data.id) as string;
		const envTwo = await stored('platform_connections', 'encrypted_credentials', two.body.data.id);
		const copy = await api('PATCH', `/items/platform_connections/${two.body.data.id}`, { token: directus.adminToken, body: { encrypted_credentials: envOne } });
		expect(copy.status).toBe(400);
		expect(copy.text).toContain('does not belong to this row');
		expect(copy.text).not.toContain(envOne);
		expect(await stored('platform_connections', 'encrypted_credentials', two.body.data.id)).toBe(envTwo);
		const toOtherCollection = await api('POST', '/items/download_credentials', {
			token: userA.token,
			body: { platform: 'x', creator_profile_id: one.body.data.id, auth_type: 'password', encrypted_credentials: envOne },
		});
		expect(toOtherCollection.status).toBe(400);
		const same = await api('PATCH', `/items/platform_connections/${one.body.data.id}`, { token: userA.token, body: { encrypted_credentials: envOne } });
		expect(same.status).toBe(200);
		expect(await stored('platform_connections', 'encrypted_credentials', one.body.data.id)).toBe(envOne);
	});
});

describe('content versioning', () => {
	const draftOf = async (id: string) => {
		const [row] = await directus.db.query<{ delta: unknown }>(`select delta from directus_versions where id = ?`, id);
		return jsonColumn(row!.delta) as Record<string, unknown>;
	};
	const openDraft = (delta: Record<string, unknown>, pk: string) =>
		openStored(ring(), delta['encrypted_credentials'], { collection: 'platform_connections', field: 'encrypted_credentials', pk });

	beforeAll(async () => {
		for (const c of ['platform_connections', 'download_credentials']) {
			expect((await api('PATCH', `/collections/${c}`, { token: directus.adminToken, body: { meta: { versioning: true } } })).status).toBe(200);
		}
	});

	it('a draft of an item holds ciphertext bound to that item, reads masked, and promotes to the new value', async () => {
		const first = canary('version-main');
		const row = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'versioned', encrypted_credentials: first } });
		const id = row.body.data.id as string;
		const version = await api('POST', '/versions', { token: directus.adminToken, body: { key: 'rotate-soon', name: 'rotate soon', collection: 'platform_connections', item: id } });
		expect(version.status).toBe(200);
		const vid = version.body.data.id as string;

		const drafted = canary('version-draft');
		const save = await api('POST', `/versions/${vid}/save`, { token: directus.adminToken, body: { encrypted_credentials: drafted, platform_username: 'drafted' } });
		expect(save.status).toBe(200);
		// The answer merges the draft in: the value just sent comes back as the mask or an envelope, never in the clear.
		expect(save.text).not.toContain(drafted);
		expect(save.body.data.platform_username).toBe('drafted');
		const delta = await draftOf(vid);
		expect(classifyStored(delta['encrypted_credentials'])).toMatchObject({ format: 'v2', keyId: ring().current.id });
		expect(await openDraft(delta, id)).toBe(drafted);
		expect(await reveal('platform_connections', 'encrypted_credentials', id)).toBe(first);
		const revisions = await directus.db.query<{ data: unknown }>(`select data from directus_revisions where version = ?`, vid);
		expect(revisions.length).toBeGreaterThan(0);
		for (const r of revisions) {
			expect(classifyStored(jsonColumn(r.data).encrypted_credentials).format).toBe('v2');
		}

		const viewed = await api('GET', `/items/platform_connections/${id}?version=rotate-soon`, { token: directus.adminToken });
		expect(viewed.status).toBe(200);
		expect(viewed.body.data).toMatchObject({ platform_username: 'drafted', encrypted_credentials: MASK });

		const patched = canary('version-patch');
		expect((await api('POST', `/versions/${vid}/save?patchRevision=true`, { token: directus.adminToken, body: { encrypted_credentials: patched } })).status).toBe(200);
		expect(await openDraft(await draftOf(vid), id)).toBe(patched);

		const compare = await api('GET', `/versions/${vid}/compare`, { token: directus.adminToken });
		const promote = await api('POST', `/versions/${vid}/promote`, { token: directus.adminToken, body: { mainHash: compare.body.data.mainHash } });
		expect(promote.status).toBe(200);
		expect(await reveal('platform_connections', 'encrypted_credentials', id)).toBe(patched);
		expect((await api('GET', `/items/platform_connections/${id}`, { token: userA.token })).body.data.platform_username).toBe('drafted');
	});

	it('a draft of a new item gets its key at save and promotes to a row that reveals (Directus 12; 11 refuses such drafts)', async () => {
		const version = await api('POST', '/versions', { token: directus.adminToken, body: { key: 'draft', name: 'new', collection: 'platform_connections', item: null } });
		if (!host.draftsOfNewItems) {
			expect(version.status, version.text).toBe(400);
			expect(version.body.errors[0].extensions).toMatchObject({ code: 'INVALID_PAYLOAD', reason: '"item" must be a string' });
			return;
		}
		expect(version.status).toBe(200);
		const vid = version.body.data.id as string;
		const secret = canary('version-new');
		const save = await api('POST', `/versions/${vid}/save`, { token: directus.adminToken, body: { platform: 'drafted-new', encrypted_credentials: secret } });
		expect(save.status).toBe(200);
		expect(save.text).not.toContain(secret);
		const delta = await draftOf(vid);
		expect(classifyStored(delta['encrypted_credentials']).format).toBe('v2');
		const promote = await api('POST', `/versions/${vid}/promote`, { token: directus.adminToken, body: {} });
		expect(promote.status).toBe(200);
		expect(promote.body.data).toBe(delta['id']);
		expect(await reveal('platform_connections', 'encrypted_credentials', promote.body.data)).toBe(secret);
	});

	it('a protected field of an inline related item is refused, and nothing of it is kept', async () => {
		const conn = await api('POST', '/items/platform_connections', { token: userA.token, body: { platform: 'nested-version' } });
		const dl = await api('POST', '/items/download_credentials', {
			token: userA.token,
			body: { platform: 'youtube', creator_profile_id: conn.body.data.id, auth_type: 'password', encrypted_credentials: { password: canary('nested-dl') } },
		});
		const version = await api('POST', '/versions', { token: directus.adminToken, body: { key: 'nested', name: 'nested', collection: 'download_credentials', item: dl.body.data.id } });
		const vid = version.body.data.id as string;
		const secret = canary('version-nested');
		const save = await api('POST', `/versions/${vid}/save`, {
			token: directus.adminToken,
			body: { creator_profile_id: { id: conn.body.data.id, encrypted_credentials: secret } },
		});
		expect(save.status).toBe(400);
		expect(save.text).toContain('platform_connections.encrypted_credentials');
		expect(save.text).not.toContain(secret);
		expect(JSON.stringify(await draftOf(vid))).not.toContain(secret);
	});
});

describe('no secret at rest', () => {
	it('no canary in the database file, revisions, activity or the trace-level server log', async () => {
		expect(canaries.length).toBeGreaterThan(10);
		const bytes = await directus.db.everything();
		const revisions = JSON.stringify(await directus.db.query('select data, delta from directus_revisions'));
		const activity = JSON.stringify(await directus.db.query('select * from directus_activity'));
		expect((await directus.db.query('select count(*) as n from directus_revisions'))[0]!.n).toBeGreaterThan(10);
		const log = directus.log();
		expect(log.length).toBeGreaterThan(1000);
		const found = canaries.filter((c) => bytes.includes(c) || revisions.includes(c) || activity.includes(c) || log.includes(c));
		expect(found).toEqual([]);
	});
});

describe('fail closed without a usable key', () => {
	it('refuses protected writes and answers every route with the setting’s name', async () => {
		await directus.restart({ CREDENTIALS_ENC_KEY_B64: undefined });
		const before = (await directus.db.query('select count(*) as n from platform_connections'))[0]!.n;
		const secret = canary('no-key');
		const refused = await api('POST', '/items/platform_connections', { token: directus.adminToken, body: { platform: 'nokey', encrypted_credentials: secret } });
		expect(refused.status).toBe(500);
		expect(refused.text).toContain('CREDENTIALS_ENC_KEY_B64 not set');
		expect(refused.text).not.toContain(secret);
		expect((await directus.db.query('select count(*) as n from platform_connections'))[0]!.n).toBe(before);
		const plain = await api('POST', '/items/platform_connections', { token: directus.adminToken, body: { platform: 'no-secret-field' } });
		expect(plain.status).toBe(200);
		const route = await api('POST', '/credentials/reveal', { body: {} });
		expect(route.status).toBe(500);
		expect(route.body).toEqual({ success: false, error: 'CREDENTIALS_ENC_KEY_B64 not set' });
		expect(await directus.db.everything()).not.toContain(secret);

		await directus.restart({ CREDENTIALS_ENC_KEY_B64: randomBytes(16).toString('base64') });
		const invalid = await api('POST', '/credentials/store', { body: {} });
		expect(invalid.body).toEqual({ success: false, error: 'CREDENTIALS_ENC_KEY_B64 is invalid' });
		const refusedAgain = await api('PATCH', `/items/platform_connections/${plain.body.data.id}`, { token: directus.adminToken, body: { encrypted_credentials: secret } });
		expect(refusedAgain.status).toBe(500);
		expect(await directus.db.everything()).not.toContain(secret);
	});
});
