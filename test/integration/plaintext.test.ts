import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyStored, makeKeyring, openStored } from '../../src/crypto/index.js';
import { MASK } from '../../src/hook/handlers/mask-on-read.js';
import { harnessDatabase } from '../../tools/harness/database.js';
import type { Instance } from '../../tools/harness/directus.js';
import { host } from '../../tools/harness/host.js';
import { useDirectus, WEBSOCKETS, type Api } from './fixture.js';
import { overWebsocket } from '../../tools/harness/websocket.js';

/**
 * Plaintext at no door: a protected value is masked by the field's identity wherever it is read
 * (aliases, aggregates, relations, GraphQL, websockets; drafts, revisions and activity), drafts
 * that cannot be checked are refused, Directus's own promote and revert still restore the right
 * secret, and the database guard takes only well-formed envelopes under a configured key.
 * `notes.secret` is added through CREDENTIALS_ENCRYPTED_FIELDS and still holds plaintext, as it
 * does between adding a field and running `encrypt-existing`.
 */
const suite = useDirectus({ env: { CREDENTIALS_ENCRYPTED_FIELDS: 'notes.secret,notes.short_secret', ...WEBSOCKETS, LOG_LEVEL: 'trace', LOG_STYLE: 'pretty' } });
let directus: Instance;
let api: Api;
let admin: string;
const C = 'platform_connections';
const canary = (label: string) => `CANARY-${label}-${randomBytes(6).toString('hex')}`;
const ring = () => makeKeyring(Buffer.from(directus.env.CREDENTIALS_ENC_KEY_B64!, 'base64'));
const jsonColumn = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
const storedSecret = async (id: string) => (await directus.db.query(`select encrypted_credentials as v from ${C} where id = ?`, id))[0]?.v;
const reveal = async (id: string) => openStored(ring(), await storedSecret(id), { collection: C, field: 'encrypted_credentials', pk: id });
/** Neither the plaintexts nor any envelope. */
const hidden = (text: string, ...plaintexts: string[]) => {
	expect(text).not.toContain('cred:v2:');
	for (const p of plaintexts) expect(text).not.toContain(p);
};

const notePlain = canary('note');
let noteId: string;
let memoId: string;

beforeAll(async () => {
	({ directus, api } = suite);
	admin = directus.adminToken;
	const ok = async (method: string, path: string, body: unknown) => {
		const res = await api(method, path, { token: admin, body });
		expect(res.status, `${path}: ${res.text}`).toBeLessThan(300);
	};
	const uuidKey = { field: 'id', type: 'uuid', meta: { special: ['uuid'] }, schema: { is_primary_key: true } };
	await ok('POST', '/collections', {
		collection: 'notes',
		schema: {},
		meta: { versioning: true },
		// `short_secret` is a protected field an admin gave a length limit: its envelope will not fit.
		fields: [uuidKey, { field: 'title', type: 'string' }, { field: 'secret', type: 'text' }, { field: 'short_secret', type: 'string', schema: { max_length: 64 } }],
	});
	await ok('POST', '/collections', { collection: 'memos', schema: {}, meta: { versioning: true }, fields: [uuidKey, { field: 'label', type: 'string' }, { field: 'note', type: 'uuid' }] });
	await ok('POST', '/fields/notes', { field: 'memos', type: 'alias', meta: { special: ['o2m'] } });
	await ok('POST', '/relations', { collection: 'memos', field: 'note', related_collection: 'notes', meta: { one_field: 'memos' } });
	await ok('PATCH', `/collections/${C}`, { meta: { versioning: true } });
	// A value written before the field was protected: plaintext at rest until `encrypt-existing`.
	noteId = randomUUID();
	memoId = randomUUID();
	await directus.db.execute(`insert into notes (id, title, secret) values (?, 'old note', ?)`, noteId, notePlain);
	await directus.db.execute(`insert into memos (id, label, note) values (?, 'memo', ?)`, memoId, noteId);
}, 600_000);

describe('masking by the field’s identity, whatever the value looks like', () => {
	const get = async (path: string) => {
		const res = await api('GET', path, { token: admin });
		hidden(res.text, notePlain);
		return res;
	};

	it('through aliases, at every depth of relations, in GraphQL and over websockets', async () => {
		expect((await get(`/items/notes/${noteId}?fields=id,secret`)).body.data.secret).toBe(MASK);
		expect((await get(`/items/notes?alias[x]=secret&fields=id,x`)).body.data[0].x).toBe(MASK);
		expect((await get(`/items/memos?fields=id,note.secret`)).body.data[0].note.secret).toBe(MASK);
		// An alias one level down (`deep[note][_alias]`): whatever Directus answers, never the plaintext.
		expect((await get(`/items/memos?fields=id,note.y&deep[note][_alias][y]=secret`)).status).toBe(200);
		expect((await get(`/items/notes?fields=id,memos.note.secret`)).body.data[0].memos[0].note.secret).toBe(MASK);
		expect((await get(`/items/memos?fields=*.*`)).body.data[0].note.secret).toBe(MASK);

		const graphql = await api('POST', '/graphql', { token: admin, body: { query: `{ memos { id note { x: secret } } notes { hidden: secret } }` } });
		hidden(graphql.text, notePlain);
		expect(graphql.body.data.memos[0].note.x).toBe(MASK);
		expect(graphql.body.data.notes[0].hidden).toBe(MASK);

		const socket = await overWebsocket(directus, admin, { type: 'items', action: 'read', collection: 'memos', query: { fields: ['id', 'note.secret'] } });
		hidden(JSON.stringify(socket), notePlain);
		expect(socket.data[0].note.secret).toBe(MASK);
	});

	it('aggregates and groups over a protected field are refused', async () => {
		for (const query of ['aggregate[max]=secret', 'aggregate[min]=secret', 'aggregate[countDistinct]=secret', 'aggregate[max]=x&alias[x]=secret', 'aggregate[count]=*&groupBy[]=secret']) {
			const res = await get(`/items/notes?${query}`);
			expect(res.status, query).toBe(400);
		}
	});
});

describe('drafts that cannot be checked are refused, never stored', () => {
	let versionId: string;
	beforeAll(async () => {
		const version = await api('POST', '/versions', { token: admin, body: { key: 'unchecked', name: 'unchecked', collection: 'memos', item: memoId } });
		expect(version.status, version.text).toBe(200);
		versionId = version.body.data.id;
	});
	/** The save is refused as uncheckable, and the secret is nowhere: not in the answer, the draft or a revision. */
	const refused = async (label: string, body: (secret: string) => unknown) => {
		const secret = canary(label);
		const save = await api('POST', `/versions/${versionId}/save`, { token: admin, body: body(secret) });
		expect(save.status, save.text).toBe(400);
		expect(save.body.errors[0].extensions.code).toBe('CREDENTIALS_DRAFT_UNCHECKABLE');
		hidden(save.text, secret);
		const stored = JSON.stringify(await directus.db.query(`select delta from directus_versions where id = ?`, versionId));
		const revisions = JSON.stringify(await directus.db.query(`select data, delta from directus_revisions`));
		expect(stored + revisions).not.toContain(secret);
	};

	it('an array body', () => refused('array-draft', (secret) => [{ note: { id: noteId, secret } }, { secret }]));

	it('related items nested deeper than the sealer looks', () =>
		refused('deep-draft', (secret) => {
			// memo → note → memos[] → note → … : 18 relational levels, the secret at the bottom.
			let node: Record<string, unknown> = { title: 'bottom', secret };
			for (let level = 0; level < 9; level++) node = { title: `n${level}`, memos: [{ label: `m${level}`, note: node }] };
			return { note: node };
		}));

	it('structure under a key that is no field of the collection', () => refused('unknown-key-draft', (secret) => ({ label: 'ok', bogus: { secret } })));
});

describe('drafts, revisions and activity read masked; promote and revert restore the right secret', () => {
	let id: string;
	let versionId: string;
	const first = canary('first');
	const second = canary('second');
	const drafted = canary('drafted');

	beforeAll(async () => {
		const created = await api('POST', `/items/${C}`, { token: admin, body: { platform: 'versioned', encrypted_credentials: first } });
		id = created.body.data.id;
		expect((await api('PATCH', `/items/${C}/${id}`, { token: admin, body: { encrypted_credentials: second } })).status).toBe(200);
		const version = await api('POST', '/versions', { token: admin, body: { key: 'masked', name: 'masked', collection: C, item: id } });
		versionId = version.body.data.id;
		const save = await api('POST', `/versions/${versionId}/save`, { token: admin, body: { encrypted_credentials: drafted, platform_username: 'drafted' } });
		expect(save.status, save.text).toBe(200);
		hidden(save.text, drafted);
		expect(save.body.data.encrypted_credentials).toBe(MASK);
	});
	const read = async (path: string, system = false) => {
		const res = system ? await api('POST', '/graphql/system', { token: admin, body: { query: path } }) : await api('GET', path, { token: admin });
		expect(res.status, res.text).toBe(200);
		hidden(res.text, first, second, drafted);
		return res.body;
	};

	it('every read of a draft shows the mask', async () => {
		expect((await read(`/versions/${versionId}`)).data.delta.encrypted_credentials).toBe(MASK);
		expect((await read(`/versions?filter[id][_eq]=${versionId}`)).data[0].delta.encrypted_credentials).toBe(MASK);
		expect((await read(`/versions/${versionId}/compare`)).data.current.encrypted_credentials).toBe(MASK);
		const raw = (await read(`/items/${C}/${id}?version=masked&versionRaw=true`)).data;
		expect(raw).toMatchObject({ platform_username: 'drafted', encrypted_credentials: MASK });
		const applied = await read(`/items/${C}/${id}?version=masked`);
		expect(applied.data).toMatchObject({ platform_username: 'drafted', encrypted_credentials: MASK });
		// Directus 11 applies drafts to single-item reads only.
		const listed = (await read(`/items/${C}?version=masked&filter[id][_eq]=${id}`)).data[0];
		expect(listed).toMatchObject({ platform_username: host.draftsOnListReads ? 'drafted' : null, encrypted_credentials: MASK });
	});

	it('revisions and activity show the mask, with or without the collection they belong to', async () => {
		const revisions = (await read(`/revisions?filter[item][_eq]=${id}&fields=collection,data,delta`)).data;
		expect(revisions.length).toBeGreaterThanOrEqual(3);
		for (const r of revisions) if (r.data?.encrypted_credentials) expect(r.data.encrypted_credentials).toBe(MASK);
		await read(`/revisions?filter[item][_eq]=${id}&fields=data,delta`);
		await read(`/activity?filter[item][_eq]=${id}&fields=revisions.*,revisions.version.delta`);
		await read(`{ revisions(filter: { item: { _eq: "${id}" } }) { data delta } }`, true);
	});

	it('saving another field keeps the draft’s secret; promote applies it', async () => {
		expect((await api('POST', `/versions/${versionId}/save`, { token: admin, body: { platform_username: 'drafted again' } })).status).toBe(200);
		const [row] = await directus.db.query<{ delta: unknown }>(`select delta from directus_versions where id = ?`, versionId);
		const delta = jsonColumn(row!.delta);
		expect(classifyStored(delta.encrypted_credentials).format).toBe('v2');
		const compare = await read(`/versions/${versionId}/compare`);
		const promote = await api('POST', `/versions/${versionId}/promote`, { token: admin, body: { mainHash: compare.data.mainHash } });
		expect(promote.status, promote.text).toBe(200);
		expect(await reveal(id)).toBe(drafted);
	});

	it('reverting to a revision restores that revision’s secret, not the mask nor the current one', async () => {
		const revisions = await directus.db.query<{ id: number; data: unknown }>(`select id, data from directus_revisions where collection = ? and item = ? and version is null order by id`, C, id);
		const firstRevision = revisions.find((r) => jsonColumn(r.data)?.encrypted_credentials)!;
		const revert = await api('POST', `/utils/revert/${firstRevision.id}`, { token: admin });
		expect(revert.status, revert.text).toBeLessThan(300);
		expect(classifyStored(await storedSecret(id)).format).toBe('v2');
		expect(await reveal(id)).toBe(first);
	});
});

describe('the database guard', () => {
	it('refuses, below the services, a value that only looks sealed — here a planted draft applied on a `?version=` read', async () => {
		const created = await api('POST', `/items/${C}`, { token: admin, body: { platform: 'planted', encrypted_credentials: { p: 1 } } });
		const id = created.body.data.id as string;
		const planted = 'cred:v2:planted-plaintext-value';
		await directus.db.execute(
			`insert into directus_versions (id, "key", name, collection, item, delta) values (?, 'planted', 'planted', ?, ?, ?)`,
			randomUUID(),
			C,
			id,
			JSON.stringify({ encrypted_credentials: planted, platform_username: 'planted' }),
		);
		// Directus 12 applies it on a list read and answers the error beside the item; Directus 11 on a single-item read, which fails.
		const path = host.draftsOnListReads ? `/items/${C}?version=planted&filter[id][_eq]=${id}` : `/items/${C}/${id}?version=planted`;
		const read = await api('GET', path, { token: admin });
		expect(read.status, read.text).toBe(host.draftsOnListReads ? 200 : 500);
		expect(read.text).toContain('CREDENTIALS_PLAINTEXT_REFUSED');
		expect(read.text).not.toContain('planted-plaintext');
		if (host.draftsOnListReads) expect(read.body.data[0].encrypted_credentials).toBe(MASK);
		expect(classifyStored(await storedSecret(id)).format).toBe('v2');
	});
});

describe('error answers and log lines', () => {
	const sent: string[] = [];
	const secret = (label: string) => {
		const value = canary(label);
		sent.push(value);
		return value;
	};

	it('a GraphQL type error does not quote the credentials it could not take', async () => {
		const value = secret('graphql-variable');
		const viaVariable = await api('POST', '/graphql', {
			token: admin,
			body: { query: `mutation ($d: create_${C}_input!) { create_${C}_item(data: $d) { id } }`, variables: { d: { platform: 'typed', encrypted_credentials: { password: value } } } },
		});
		expect(viaVariable.body.errors?.length, viaVariable.text).toBeGreaterThan(0);
		hidden(viaVariable.text, value);
		const inline = secret('graphql-inline');
		const viaLiteral = await api('POST', '/graphql', { token: admin, body: { query: `mutation { create_${C}_item(data: { platform: "typed", encrypted_credentials: { password: "${inline}" } }) { id } }` } });
		expect(viaLiteral.body.errors?.length, viaLiteral.text).toBeGreaterThan(0);
		hidden(viaLiteral.text, inline);
	});

	it('a value too long for its column is refused without quoting its envelope', async () => {
		const value = secret('too-long') + 'x'.repeat(200);
		const res = await api('PATCH', `/items/notes/${noteId}`, { token: admin, body: { short_secret: value } });
		hidden(res.text, value);
		// SQLite does not enforce a varchar length; PostgreSQL and MariaDB refuse the envelope.
		if (harnessDatabase() !== 'sqlite') {
			expect(res.status, res.text).toBe(400);
			expect(res.body.errors[0].extensions).toMatchObject({ code: 'VALUE_TOO_LONG', field: 'short_secret', value: null });
		} else expect(res.status, res.text).toBe(200);
	});

	it('the trace-level log (pretty style; the matrix checks the raw one) holds none of it', async () => {
		const log = directus.log();
		expect(log.length).toBeGreaterThan(1000);
		for (const value of sent) expect(log).not.toContain(value);
		expect(log).not.toContain(notePlain);
		expect(log).not.toMatch(/cred:v2:[0-9a-f]{8}:/);
		// The note's plaintext, still at rest in its row, is sealed in the revisions that copy the row.
		expect((await api('PATCH', `/items/notes/${noteId}`, { token: admin, body: { title: 'touched' } })).status).toBe(200);
		const revisions = await directus.db.query<{ data: unknown }>(`select data from directus_revisions where collection = 'notes'`);
		expect(revisions.length).toBeGreaterThan(0);
		expect(JSON.stringify(revisions)).not.toContain(notePlain);
	});
});
