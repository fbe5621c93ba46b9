import { describe, expect, it } from 'vitest';
import { classifyStored, openStored, sealValue } from '../../src/crypto/index.js';
import { emitEventsOnCreate, emitEventsOnUpdate, operationsToFix } from '../../src/hook/handlers/flow-operations.js';
import { MASK, maskRows } from '../../src/hook/handlers/mask-on-read.js';
import { assertNoPlaintext } from '../../src/hook/handlers/plaintext-guard.js';
import { protectValue, sealFields, withoutMaskEchoes, withPrimaryKey } from '../../src/protection/codec.js';
import type { WriteDeps } from '../../src/protection/deps.js';
import { sealDelta } from '../../src/hook/handlers/protect-versions.js';
import { ProtectedFields } from '../../src/schema/protected-fields.js';
import { legacyEncrypt, rawKey, ring } from './helpers.js';

const ctx = { collection: 'platform_connections', field: 'encrypted_credentials', pk: 'row-1' };

describe('protectValue', () => {
	it('seals plaintext for the row and keeps null as null', () => {
		const r = ring();
		const sealed = protectValue(r, { password: 'p' }, ctx, false);
		expect(classifyStored(sealed).format).toBe('v2');
		expect(openStored(r, sealed, ctx)).toEqual({ password: 'p' });
		expect(protectValue(r, null, ctx, false)).toBeNull();
	});

	it('passes an envelope for this exact row unchanged (no double encryption)', () => {
		const r = ring();
		const env = sealValue(r, 'x', ctx);
		expect(protectValue(r, env, ctx, false)).toBe(env);
		expect(protectValue(r, env, ctx, true)).toEqual({ enc: env });
		expect(protectValue(r, { enc: env }, ctx, false)).toBe(env);
	});

	it('rejects an envelope from another row with a 400 that names the field only', () => {
		const r = ring();
		const env = sealValue(r, 'CANARY-value', { ...ctx, pk: 'row-2' });
		try {
			protectValue(r, env, ctx, false);
			throw new Error('expected a rejection');
		} catch (error) {
			expect((error as { status: number }).status).toBe(400);
			expect((error as Error).message).toContain('encrypted_credentials');
			expect((error as Error).message).not.toContain(env);
		}
	});

	it('names the missing key (409) for an envelope under a key that is not configured', () => {
		const retired = ring();
		const env = sealValue(retired, 'x', ctx);
		expect(() => protectValue(ring(), env, ctx, false)).toThrow(expect.objectContaining({ status: 409, message: expect.stringContaining(retired.current.id) }));
	});

	it('refuses a legacy value: it names no row, so a client could plant one from an old backup', () => {
		const key = rawKey();
		const r = ring(key);
		expect(() => protectValue(r, legacyEncrypt(key, { a: 1 }), ctx, false)).toThrow(expect.objectContaining({ status: 400, code: 'CREDENTIALS_LEGACY_REFUSED' }));
		expect(() => protectValue(r, { enc: `v1:${legacyEncrypt(key, { a: 1 })}` }, ctx, true)).toThrow(expect.objectContaining({ status: 400 }));
	});
});

describe('maskRows', () => {
	const fields = new ProtectedFields([ctx]);

	it('masks protected fields by name, including plaintext ones, and leaves null visible', () => {
		const rows = [{ id: 1, encrypted_credentials: 'plain', platform: 'x' }, { id: 2, encrypted_credentials: null }];
		maskRows(fields, ctx.collection, rows);
		expect(rows).toEqual([{ id: 1, encrypted_credentials: MASK, platform: 'x' }, { id: 2, encrypted_credentials: null }]);
	});

	it('masks ciphertext nested in expanded relations and in single-item reads', () => {
		const env = sealValue(ring(), 'x', ctx);
		const row = { id: 1, creator_profile_id: { id: 2, encrypted_credentials: env, sessions: [{ encrypted_cookies: { enc: env } }] } };
		maskRows(fields, 'download_credentials', row);
		expect(row.creator_profile_id.encrypted_credentials).toBe(MASK);
		expect(row.creator_profile_id.sessions[0]!.encrypted_cookies).toBe(MASK);
	});
});

describe('assertNoPlaintext (below the services)', () => {
	const fields = new ProtectedFields([ctx, { collection: 'creator_profiles', field: 'credentials' }]);
	const keys = ring();
	const env = sealValue(keys, 'x', ctx);
	const configured = () => new Set([keys.current.id]);
	const builder = (method: string, table: string, data: unknown) => ({
		_method: method,
		_single: { table, [method === 'update' ? 'update' : 'insert']: data },
	});
	const guard = (method: string, table: string, data: unknown, keyIds: () => ReadonlySet<string> | null = configured) => () =>
		assertNoPlaintext(fields, builder(method, table, data), keyIds);

	it('refuses an insert or update that carries plaintext into a protected column', () => {
		expect(guard('insert', ctx.collection, { encrypted_credentials: 'plain' })).toThrow(/Refusing to store plaintext/);
		expect(guard('insert', ctx.collection, [{ encrypted_credentials: env }, { encrypted_credentials: 'p' }])).toThrow();
		expect(guard('update', 'creator_profiles', { credentials: '{"password":"p"}' })).toThrow();
	});

	it('refuses what only looks like ciphertext: a broken envelope, a legacy value, an unknown key id', () => {
		expect(guard('insert', ctx.collection, { encrypted_credentials: 'cred:v2:my-plaintext-password' })).toThrow(/malformed/);
		expect(guard('update', 'creator_profiles', { credentials: JSON.stringify({ enc: 'cred:v2:abcdef01:x:y:z' }) })).toThrow(/malformed/);
		expect(guard('insert', ctx.collection, { encrypted_credentials: legacyEncrypt(rawKey(), { p: 1 }) })).toThrow(/legacy/);
		const other = sealValue(ring(), 'x', ctx);
		expect(guard('insert', ctx.collection, { encrypted_credentials: other })).toThrow(/not configured/);
		// Before the keyring is known nothing but null passes.
		expect(guard('insert', ctx.collection, { encrypted_credentials: env }, () => null)).toThrow(/no configured key/);
	});

	it('lets ciphertext under a configured key, null, other columns, other tables and reads through', () => {
		expect(guard('insert', ctx.collection, { encrypted_credentials: env, platform: 'x' })).not.toThrow();
		expect(guard('update', 'creator_profiles', { credentials: JSON.stringify({ enc: env }) })).not.toThrow();
		expect(guard('update', 'creator_profiles', { credentials: { enc: env } })).not.toThrow();
		expect(guard('update', ctx.collection, { encrypted_credentials: null })).not.toThrow();
		expect(guard('update', ctx.collection, { encrypted_credentials: null }, () => null)).not.toThrow();
		expect(guard('update', ctx.collection, { platform: 'plain is fine here' })).not.toThrow();
		expect(guard('insert', 'other', { encrypted_credentials: 'plain' })).not.toThrow();
		expect(() => assertNoPlaintext(fields, { _method: 'select', _single: { table: ctx.collection } }, configured)).not.toThrow();
	});
});

describe('flow operations emit events', () => {
	const fields = new ProtectedFields([ctx]);
	const op = (type: string, collection: unknown) => ({ type, options: { collection, emitEvents: false } });
	it('for every item operation on a protected, owned or templated collection', () => {
		for (const type of ['item-read', 'item-create', 'item-update', 'item-delete']) {
			expect(emitEventsOnCreate(fields, op(type, ctx.collection))).toMatchObject({ options: { emitEvents: true } });
			expect(emitEventsOnCreate(fields, op(type, 'platform_sessions'))).toMatchObject({ options: { emitEvents: true } });
			expect(emitEventsOnCreate(fields, op(type, '{{$trigger.body.c}}'))).toMatchObject({ options: { emitEvents: true } });
			expect(emitEventsOnCreate(fields, op(type, undefined))).toMatchObject({ options: { emitEvents: true } });
			expect(emitEventsOnCreate(fields, op(type, 'articles'))).toMatchObject({ options: { emitEvents: false } });
		}
		expect(emitEventsOnCreate(fields, op('log', ctx.collection))).toMatchObject({ options: { emitEvents: false } });
	});

	it('judges an update on the stored operation the payload changes', async () => {
		const stored = [{ id: 'o1', type: 'item-read', options: JSON.stringify({ collection: ctx.collection, emitEvents: true }) }];
		// Just what readOperations uses of knex: a thenable query builder.
		const builder = { whereIn: () => builder, then: (resolve: (rows: unknown) => void) => resolve(stored) };
		const database = (() => ({ select: () => builder })) as never;
		// Options without a type: the stored type decides.
		expect(await emitEventsOnUpdate(fields, { options: { collection: ctx.collection, emitEvents: false } }, ['o1'], database)).toEqual({ options: { collection: ctx.collection, emitEvents: true } });
		// A type without options: the stored options are carried, events on.
		stored[0] = { id: 'o1', type: 'log', options: JSON.stringify({ collection: ctx.collection, emitEvents: false }) };
		expect(await emitEventsOnUpdate(fields, { type: 'item-delete' }, ['o1'], database)).toEqual({ type: 'item-delete', options: { collection: ctx.collection, emitEvents: true } });
		expect(await emitEventsOnUpdate(fields, { name: 'renamed' }, ['o1'], database)).toEqual({ name: 'renamed' });
	});

	it('finds the stored operations that must be fixed', () => {
		const stored = [
			{ id: 'a', type: 'item-read', options: { collection: ctx.collection, emitEvents: false } },
			{ id: 'b', type: 'item-read', options: { collection: ctx.collection, emitEvents: true } },
			{ id: 'c', type: 'item-delete', options: { collection: 'articles' } },
			{ id: 'd', type: 'item-update', options: { collection: '{{ $last.c }}' } },
		];
		expect(operationsToFix(fields, stored).map((o) => o.id)).toEqual(['a', 'd']);
	});
});

describe('sealDelta (content-version drafts)', () => {
	const r = ring();
	const deps: WriteDeps = {
		keys: async () => ({ ok: true, ring: r }) as never,
		fields: new ProtectedFields([ctx, { collection: 'download_credentials', field: 'encrypted_credentials' }]),
		missingKeyIds: () => new Set(),
	};
	const field = (type: string) => ({ type });
	const schema = {
		collections: {
			platform_connections: { primary: 'id', fields: { id: field('uuid'), encrypted_credentials: field('text') } },
			download_credentials: { primary: 'id', fields: { id: field('uuid'), encrypted_credentials: field('text'), creator_profile_id: field('uuid') } },
			counters: { primary: 'id', fields: { id: field('integer') } },
		},
		relations: [{ collection: 'download_credentials', field: 'creator_profile_id', related_collection: 'platform_connections', meta: { one_field: 'downloads' } }],
	} as never;

	it('seals a draft value bound to the versioned item and drops an echoed mask, leaving its input as it was', async () => {
		const delta = { encrypted_credentials: 'CANARY-draft', platform: 'x' };
		const sealed = await sealDelta(deps, schema, { collection: ctx.collection, item: 'row-1' }, delta);
		expect(classifyStored(sealed['encrypted_credentials']).format).toBe('v2');
		expect(openStored(r, sealed['encrypted_credentials'], ctx)).toBe('CANARY-draft');
		expect(delta).toEqual({ encrypted_credentials: 'CANARY-draft', platform: 'x' });
		const echoed: Record<string, unknown> = { encrypted_credentials: MASK, platform: 'y' };
		expect(await sealDelta(deps, schema, { collection: ctx.collection, item: 'row-1' }, echoed)).toEqual({ platform: 'y' });
	});

	it('gives a draft of a new item its UUID, and refuses where the key cannot be made up', async () => {
		const delta = await sealDelta(deps, schema, { collection: ctx.collection, item: null }, { encrypted_credentials: 'CANARY-new' });
		expect(typeof delta['id']).toBe('string');
		expect(openStored(r, delta['encrypted_credentials'], { ...ctx, pk: delta['id'] as string })).toBe('CANARY-new');
		const counters = new ProtectedFields([{ collection: 'counters', field: 'secret' }]);
		await expect(sealDelta({ ...deps, fields: counters }, schema, { collection: 'counters', item: null }, { secret: 's' })).rejects.toMatchObject({ status: 400 });
	});

	it('refuses a protected field of an inline related item (m2o, o2m, o2m alterations) without echoing it', async () => {
		const m2o = { creator_profile_id: { id: 'row-1', encrypted_credentials: 'CANARY-m2o' } };
		await expect(sealDelta(deps, schema, { collection: 'download_credentials', item: 'd1' }, m2o)).rejects.toMatchObject({ status: 400 });
		const o2m = { downloads: [{ encrypted_credentials: 'CANARY-o2m' }] };
		await expect(sealDelta(deps, schema, { collection: ctx.collection, item: 'row-1' }, o2m)).rejects.toThrow(/download_credentials\.encrypted_credentials/);
		const altered = { downloads: { create: [], update: [{ id: 'd1', encrypted_credentials: 'CANARY-alt' }], delete: [] } };
		await expect(sealDelta(deps, schema, { collection: ctx.collection, item: 'row-1' }, altered)).rejects.not.toThrow(/CANARY/);
		const harmless = { downloads: { create: [{ platform: 'youtube' }], update: [], delete: [] } };
		await expect(sealDelta(deps, schema, { collection: ctx.collection, item: 'row-1' }, harmless)).resolves.toBe(harmless);
	});
});

describe('the protection codec is pure', () => {
	it('returns new payloads and leaves its input as it was', () => {
		const fields = new ProtectedFields([ctx]);
		const schema = { collections: { platform_connections: { primary: 'id', fields: { id: { type: 'uuid' }, encrypted_credentials: { type: 'text' } } } }, relations: [] } as never;
		const input = Object.freeze({ encrypted_credentials: MASK, platform: 'x' });
		expect(withoutMaskEchoes(fields, ctx.collection, input)).toEqual({ payload: { platform: 'x' }, written: [] });
		const upper = Object.freeze({ id: 'AAAAAAAA-0000-4000-8000-000000000000', encrypted_credentials: 'p' });
		expect(withPrimaryKey(schema, ctx.collection, upper).pk).toBe('aaaaaaaa-0000-4000-8000-000000000000');
		const keyless = Object.freeze({ encrypted_credentials: 'p' });
		const keyed = withPrimaryKey(schema, ctx.collection, keyless);
		expect(keyed.payload['id']).toBe(keyed.pk);
		const sealed = sealFields(ring(), schema, ctx.collection, keyed.pk, ['encrypted_credentials'], keyed.payload);
		expect(classifyStored(sealed['encrypted_credentials']).format).toBe('v2');
		expect(keyed.payload['encrypted_credentials']).toBe('p');
	});
});
