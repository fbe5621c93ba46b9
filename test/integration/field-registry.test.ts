import { beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src/lib/mask.js';
import { PROTECTED_MARK } from '../../src/schema/field-registry.js';
import type { Instance } from '../../tools/harness/directus.js';
import { createCredentialsUser } from '../../tools/harness/api.js';
import { createCollection as createCollectionIn, useDirectus, type Api } from './fixture.js';

/**
 * Protecting a field from the data model: the admin chooses the "Encrypted secret" interface (or puts
 * the mark in `special`), and from the next request on, with no restart, every write of the field is
 * sealed and every read masked; un-protecting is refused while values are sealed.
 */
const suite = useDirectus();
let directus: Instance;
let api: Api;
const admin = () => ({ token: directus.adminToken });
const stored = async (collection: string, id: string, field = 'token') => (await directus.db.query(`select ${field} as v from ${collection} where id = ?`, id))[0]?.v;
const special = async (collection: string, field: string) => (await api('GET', `/fields/${collection}/${field}`, admin())).body.data.meta.special as string[] | null;

const createCollection = (keys: 'uuid' | 'integer') => createCollectionIn({ directus, api }, keys, 'c');
const addField = (collection: string, field: string, type: string, meta: Record<string, unknown> = {}) =>
	api('POST', `/fields/${collection}`, { ...admin(), body: { field, type, meta, schema: {} } });

beforeAll(() => void ({ directus, api } = suite));

describe('protecting a field from the data model', () => {
	let notes: string;
	let id: string;

	it('choosing the "Encrypted secret" interface protects the field: the next write is sealed for its row and reads are masked, without a restart', async () => {
		notes = await createCollection('uuid');
		const field = await addField(notes, 'token', 'text', { interface: 'credentials-secret' });
		expect(field.status, field.text).toBe(200);
		expect(field.body.data.meta).toMatchObject({ special: [PROTECTED_MARK], searchable: false });
		const created = await api('POST', `/items/${notes}`, { ...admin(), body: { token: 'registry-canary' } });
		expect(created.status, created.text).toBe(200);
		id = created.body.data.id;
		expect(created.body.data.token).toBe(MASK);
		expect(await stored(notes, id)).toMatch(/^cred:v2:/);
		expect((await api('GET', `/items/${notes}/${id}`, admin())).body.data.token).toBe(MASK);
		const decrypted = await api('POST', '/credentials/decrypt', { body: { collection: notes, field: 'token', id }, headers: { 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! } });
		expect(decrypted.body).toEqual({ success: true, data: 'registry-canary' });
		// Status counts it among the protected fields.
		const status = await api('GET', '/credentials/status', admin());
		expect(status.body.fields.map((f: { field: string }) => f.field)).toContain(`${notes}.token`);
	});

	it('the mark survives edits of the field that do not touch it, and a special sent without it while the interface is ours', async () => {
		expect((await api('PATCH', `/fields/${notes}/token`, { ...admin(), body: { meta: { note: 'an API token' } } })).status).toBe(200);
		expect(await special(notes, 'token')).toEqual([PROTECTED_MARK]);
		// As the Studio sends when a field's type changes: the interface is still ours, so the field stays protected.
		expect((await api('PATCH', `/fields/${notes}/token`, { ...admin(), body: { meta: { special: null } } })).status).toBe(200);
		expect(await special(notes, 'token')).toEqual([PROTECTED_MARK]);
	});

	it('a flow operation saved with "Emit Events" off on a collection before its field was protected is switched on when it is', async () => {
		const plain = await createCollection('uuid');
		expect((await addField(plain, 'secret', 'text')).status).toBe(200);
		const flow = await api('POST', '/flows', { ...admin(), body: { name: 'writes before protection', status: 'active', trigger: 'webhook', accountability: null, options: { method: 'POST', async: false } } });
		const op = await api('POST', '/operations', {
			...admin(),
			body: { flow: flow.body.data.id, key: 'write', name: 'write', type: 'item-create', position_x: 19, position_y: 1, options: { collection: plain, permissions: '$full', emitEvents: false, payload: { secret: '{{$trigger.body.secret}}' } } },
		});
		// Nothing protected there yet: the operation keeps what it was given.
		expect(op.body.data.options.emitEvents).toBe(false);
		expect((await api('PATCH', `/fields/${plain}/secret`, { ...admin(), body: { meta: { interface: 'credentials-secret' } } })).status).toBe(200);
		const deadline = Date.now() + 5_000;
		let emits = false;
		while (!emits && Date.now() < deadline) {
			emits = (await api('GET', `/operations/${op.body.data.id}`, admin())).body.data.options.emitEvents === true;
			if (!emits) await new Promise((r) => setTimeout(r, 100));
		}
		expect(emits).toBe(true);
	});

	it('a marked field cannot be changed to a type that would cut its envelopes', async () => {
		const refused = await api('PATCH', `/fields/${notes}/token`, { ...admin(), body: { type: 'string', schema: { max_length: 255 } } });
		expect(refused.status, refused.text).toBe(400);
		expect(refused.body.errors[0].message).toMatch(/needs a text or json field, and this one is string/);
		expect((await api('GET', `/fields/${notes}/token`, admin())).body.data.type).toBe('text');
	});

	it('un-protecting is refused while a value is sealed, by the interface or by the special, and nothing changes', async () => {
		for (const meta of [{ interface: 'input' }, { interface: 'input', special: null }]) {
			const refused = await api('PATCH', `/fields/${notes}/token`, { ...admin(), body: { meta } });
			expect(refused.status, refused.text).toBe(409);
			expect(refused.text).toContain('holds 1 sealed value');
			expect(refused.text).not.toContain('registry-canary');
		}
		expect(await special(notes, 'token')).toEqual([PROTECTED_MARK]);
		expect((await api('PATCH', `/items/${notes}/${id}`, { ...admin(), body: { token: 'second-canary' } })).status).toBe(200);
		expect(await stored(notes, id)).toMatch(/^cred:v2:/);
	});

	it('once no value is sealed, choosing another interface un-protects the field: values are stored as given again', async () => {
		expect((await api('PATCH', `/items/${notes}/${id}`, { ...admin(), body: { token: null } })).status).toBe(200);
		const allowed = await api('PATCH', `/fields/${notes}/token`, { ...admin(), body: { meta: { interface: 'input' } } });
		expect(allowed.status, allowed.text).toBe(200);
		expect(await special(notes, 'token')).toBeNull();
		expect((await api('PATCH', `/items/${notes}/${id}`, { ...admin(), body: { token: 'now-plain' } })).status).toBe(200);
		expect(await stored(notes, id)).toBe('now-plain');
		expect((await api('GET', `/items/${notes}/${id}`, admin())).body.data.token).toBe('now-plain');
	});

	it('protecting a field that holds values leaves them for encrypt-existing, which seals them', async () => {
		expect((await api('PATCH', `/fields/${notes}/token`, { ...admin(), body: { meta: { interface: 'credentials-secret' } } })).status).toBe(200);
		expect(await stored(notes, id)).toBe('now-plain');
		expect((await api('GET', `/items/${notes}/${id}`, admin())).body.data.token).toBe(MASK);
		const run = await directus.cli(['credentials', 'encrypt-existing', '--json', '--collection', notes]);
		expect(run.code, run.stderr).toBe(0);
		expect(await stored(notes, id)).toMatch(/^cred:v2:/);
	});

	it("the Studio's Encrypt button: POST /credentials/encrypt-existing seals one field's plaintext, for admins only", async () => {
		const notebook = await createCollection('uuid');
		expect((await addField(notebook, 'token', 'text')).status).toBe(200);
		const ids: string[] = [];
		for (const token of ['plain-one', 'plain-two']) ids.push((await api('POST', `/items/${notebook}`, { ...admin(), body: { token } })).body.data.id);
		expect((await api('PATCH', `/fields/${notebook}/token`, { ...admin(), body: { meta: { interface: 'credentials-secret' } } })).status).toBe(200);
		const body = { collection: notebook, field: 'token' };
		const user = await api('POST', '/credentials/encrypt-existing', { token: (await createCredentialsUser(directus, 'encrypt-existing')).token, body });
		expect(user).toMatchObject({ status: 403, body: { success: false, error: 'Forbidden' } });
		expect(await api('POST', '/credentials/encrypt-existing', { body })).toMatchObject({ status: 401 });
		expect(await api('POST', '/credentials/encrypt-existing', { ...admin(), body: { collection: notebook, field: 'id' } })).toMatchObject({
			status: 400,
			body: { success: false, error: `${notebook}.id is not a protected field` },
		});
		expect(await api('POST', '/credentials/encrypt-existing', { ...admin(), body: { collection: '../x', field: 'token' } })).toMatchObject({ status: 400, body: { success: false } });
		expect(await stored(notebook, ids[0]!)).toBe('plain-one');

		const sealed = await api('POST', '/credentials/encrypt-existing', { ...admin(), body });
		expect(sealed.body).toEqual({ success: true, field: `${notebook}.token`, sealed: 2, changedConcurrently: 0, remaining: 0 });
		for (const [i, id] of ids.entries()) {
			expect(await stored(notebook, id)).toMatch(/^cred:v2:/);
			const revealed = await api('POST', '/credentials/decrypt', { body: { collection: notebook, field: 'token', id }, headers: { 'X-RBAC-SYNC-SECRET': directus.env.RBAC_SYNC_WEBHOOK_SECRET! } });
			expect(revealed.body.data).toBe(['plain-one', 'plain-two'][i]);
		}
		// The panel's figures afterwards are fresh, not the ones shared from before the run.
		const health = await api('GET', '/credentials/status', admin());
		expect(health.body.fields.find((f: { field: string }) => f.field === `${notebook}.token`)).toMatchObject({ plaintext: 0 });
		expect((await api('POST', '/credentials/encrypt-existing', { ...admin(), body })).body).toMatchObject({ sealed: 0, remaining: 0 });
	});

	it('the one way out: decrypt-field, named twice, audited, un-protects the field and stores its values in plaintext; nothing else can', async () => {
		const refused = await api('PATCH', `/fields/${notes}/token`, { ...admin(), body: { meta: { interface: 'input' } } });
		expect(refused.status).toBe(409);
		expect(refused.text).toContain(`credentials decrypt-field --field ${notes}.token --confirm ${notes}.token`);
		const second = await api('POST', `/items/${notes}`, { ...admin(), body: { token: 'second-row-canary' } });
		const field = `${notes}.token`;
		const json = (out: { stdout: string }) => JSON.parse(out.stdout.trim().split('\n').pop()!);

		// Not named twice, or a field the extension protects itself: refused, nothing written, nothing audited.
		const unconfirmed = await directus.cli(['credentials', 'decrypt-field', '--json', '--field', field]);
		expect(unconfirmed.code).toBe(1);
		expect(json(unconfirmed).error).toContain(`--confirm ${field} is required`);
		const builtIn = 'platform_connections.encrypted_credentials';
		const ownField = await directus.cli(['credentials', 'decrypt-field', '--json', '--field', builtIn, '--confirm', builtIn]);
		expect(json(ownField).error).toContain('protected by the extension itself');
		expect(await stored(notes, id)).toMatch(/^cred:v2:/);
		expect(await special(notes, 'token')).toEqual([PROTECTED_MARK]);
		const audited = () => directus.db.query(`select item, origin from directus_activity where action = 'decrypt-field' and collection = ?`, notes);
		expect(await audited()).toEqual([]);

		const dry = await directus.cli(['credentials', 'decrypt-field', '--json', '--dry-run', '--field', field, '--confirm', field]);
		expect(json(dry)).toMatchObject({ ok: true, dryRun: true, rewritten: 2 });
		expect(await stored(notes, id)).toMatch(/^cred:v2:/);

		const out = await directus.cli(['credentials', 'decrypt-field', '--json', '--field', field, '--confirm', field]);
		expect(out.code, out.stderr).toBe(0);
		expect(json(out)).toMatchObject({ ok: true, field, released: true, rewritten: 2, failed: 0 });
		expect(out.stdout + out.stderr).not.toContain('second-row-canary');
		expect(await stored(notes, id)).toBe('now-plain');
		expect(await stored(notes, second.body.data.id)).toBe('second-row-canary');
		expect(await special(notes, 'token')).toBeNull();
		expect((await api('GET', `/fields/${notes}/token`, admin())).body.data.meta.interface).toBe('input');
		expect(await audited()).toEqual([{ item: 'token', origin: expect.stringMatching(/^credentials decrypt-field \(CLI\) by \S+@\S+$/) }]);
		// The server (no Redis here) reads the changed schema once its system cache is cleared: the field reads as stored.
		expect((await api('POST', '/utils/cache/clear?system', admin())).status).toBe(200);
		expect((await api('GET', `/items/${notes}/${id}`, admin())).body.data.token).toBe('now-plain');
	});
});

describe('fields that cannot be protected', () => {
	it('a collection whose keys the database generates: refused with the reason, the field stays as it was', async () => {
		const counters = await createCollection('integer');
		const refused = await addField(counters, 'secret', 'text', { interface: 'credentials-secret' });
		expect(refused.status).toBe(400);
		expect(refused.body.errors[0].message).toMatch(/cannot be protected: each value is bound to its row's primary key, and "id" is generated by the database/);
		expect((await api('GET', `/fields/${counters}/secret`, admin())).status).not.toBe(200);
		expect((await addField(counters, 'plain', 'text')).status).toBe(200);
		expect((await api('PATCH', `/fields/${counters}/plain`, { ...admin(), body: { meta: { special: [PROTECTED_MARK] } } })).status).toBe(400);
		expect(await special(counters, 'plain')).toBeNull();
	});

	it('a 255-character string field: refused, a sealed value would not fit', async () => {
		const notes = await createCollection('uuid');
		const refused = await addField(notes, 'short', 'string', { interface: 'credentials-secret' });
		expect(refused.status).toBe(400);
		expect(refused.body.errors[0].message).toMatch(/needs a text or json field, and this one is string/);
	});
});
