import { RecordNotUniqueError, ValueTooLongError } from '@directus/errors';
import type { SchemaOverview } from '@directus/types';
import { describe, expect, it } from 'vitest';
import { sealValue } from '../../src/crypto/index.js';
import { MASK, maskRows } from '../../src/hook/handlers/mask-on-read.js';
import { scrubDatabaseError, scrubErrorAnswer, secretsSent } from '../../src/hook/handlers/scrub-errors.js';
import { sealDelta } from '../../src/hook/handlers/protect-versions.js';
import { ProtectedFields } from '../../src/schema/protected-fields.js';
import { ring } from './helpers.js';

const fields = new ProtectedFields([
	{ collection: 'notes', field: 'secret' },
	{ collection: 'platform_connections', field: 'encrypted_credentials' },
]);
const field = (name: string, type = 'string') => ({ field: name, type, special: [], searchable: true });
/** notes ← memos.note (m2o, with the o2m alias notes.memos); memos.item is a many-to-any. */
const schema = {
	collections: {
		notes: { collection: 'notes', primary: 'id', fields: { id: field('id', 'uuid'), secret: field('secret', 'text'), body: field('body', 'json'), memos: field('memos', 'alias') } },
		memos: { collection: 'memos', primary: 'id', fields: { id: field('id', 'uuid'), note: field('note', 'uuid'), item: field('item'), kind: field('kind') } },
	},
	relations: [
		{ collection: 'memos', field: 'note', related_collection: 'notes', meta: { one_field: 'memos' } },
		{ collection: 'memos', field: 'item', related_collection: null, meta: { one_collection_field: 'kind', one_allowed_collections: ['notes'] } },
	],
} as unknown as SchemaOverview;

describe('masking by identity', () => {
	it('masks a protected field whatever it holds: under an alias, through relations, in aggregates', () => {
		const rows = [{ id: 1, x: 'plain', secret: 'plain too', body: { secret: 'a json key, not a field' } }];
		maskRows(fields, 'notes', rows, { schema, query: { alias: { x: 'secret' } } });
		expect(rows[0]).toEqual({ id: 1, x: MASK, secret: MASK, body: { secret: 'a json key, not a field' } });

		const memos = [{ id: 2, note: { id: 1, secret: 'plain', memos: [{ note: { secret: 'deeper' } }] }, kind: 'notes', item: { secret: 'by a2o' } }];
		maskRows(fields, 'memos', memos, { schema });
		expect(memos[0]!.note.secret).toBe(MASK);
		expect(memos[0]!.note.memos[0]!.note.secret).toBe(MASK);
		expect(memos[0]!.item.secret).toBe(MASK);
		// A many-to-any target the row does not name: masked by name.
		const unnamed = [{ item: { secret: 'unknown target' } }];
		maskRows(fields, 'memos', unnamed, { schema });
		expect(unnamed[0]!.item.secret).toBe(MASK);

		const aggregate = [{ max: { secret: 'zzz', id: 9 } }];
		maskRows(fields, 'notes', aggregate, { schema, query: { aggregate: { max: ['secret', 'id'] } } });
		expect(aggregate[0]).toEqual({ max: { secret: MASK, id: 9 } });
	});

	it('masks the payloads of revisions and drafts by the collection they name, or by name when they name none', () => {
		const revision = [{ collection: 'notes', data: { secret: 'plain', title: 't' }, delta: { secret: 'plain' } }, { data: { encrypted_credentials: 'x', other: 'y' } }];
		maskRows(fields, 'directus_revisions', revision, { schema });
		expect(revision).toEqual([{ collection: 'notes', data: { secret: MASK, title: 't' }, delta: { secret: MASK } }, { data: { encrypted_credentials: MASK, other: 'y' } }]);
		const version = { collection: 'notes', delta: { secret: 'plain' } };
		maskRows(fields, 'directus_versions', version, { schema });
		expect(version.delta.secret).toBe(MASK);
		const activity = [{ revisions: [{ collection: 'notes', data: { secret: 'p' } }] }];
		maskRows(fields, 'directus_activity', activity, { schema: { ...schema, relations: [...schema.relations, { collection: 'directus_revisions', field: 'activity', related_collection: 'directus_activity', meta: { one_field: 'revisions' } }] } as SchemaOverview });
		expect(activity[0]!.revisions[0]!.data.secret).toBe(MASK);
		const versioned = [{ id: 1, secret: MASK, $meta: { delta: { secret: 'plain' } } }];
		maskRows(fields, 'notes', versioned, { schema });
		expect(versioned[0]!.$meta.delta.secret).toBe(MASK);
	});

	it('masks ciphertext wherever it sits, and fails closed past its depth', () => {
		const env = sealValue(ring(), 'x', { collection: 'notes', field: 'secret', pk: '1' });
		const row = { body: { anything: env } };
		maskRows(fields, 'notes', row, { schema });
		expect(row.body.anything).toBe(MASK);
		let deep: Record<string, unknown> = { leaf: 'plain' };
		for (let i = 0; i < 80; i++) deep = { d: deep };
		const deepRow = { body: deep };
		maskRows(fields, 'notes', deepRow, { schema });
		expect(JSON.stringify(deepRow)).not.toContain('plain');
	});
});

describe('drafts the sealer cannot check', () => {
	const deps = { keys: async () => ({ ok: true as const, ring: ring() }), fields, missingKeyIds: () => new Set<string>() };
	it('are refused: no schema, too deep, or structure under a key that is no field', async () => {
		await expect(sealDelta(deps, null, { collection: 'memos', item: '1' }, { note: { secret: 'p' } })).rejects.toThrow(/schema is not available/);
		let node: Record<string, unknown> = { secret: 'p' };
		for (let i = 0; i < 10; i++) node = { memos: [{ note: node }] };
		await expect(sealDelta(deps, schema, { collection: 'memos', item: '1' }, { note: node })).rejects.toThrow(/deeper than/);
		await expect(sealDelta(deps, schema, { collection: 'notes', item: '1' }, { bogus: { secret: 'p' } })).rejects.toThrow(/"bogus" is not a field/);
		await expect(sealDelta(deps, schema, { collection: 'notes', item: '1' }, { body: { secret: 'a json value' }, _date: new Date() })).resolves.toBeTruthy();
	});
});

describe('errors never quote a protected value', () => {
	it('database errors lose the value of a protected field, of an object, or of anything sealed', () => {
		const env = sealValue(ring(), 'x', { collection: 'notes', field: 'secret', pk: '1' });
		const tooLong = scrubDatabaseError(fields, new ValueTooLongError({ collection: 'notes', field: 'secret', value: env })) as Error;
		expect(tooLong.message).toBe('Value for field "secret" in collection "notes" is too long.');
		expect(tooLong).toBeInstanceOf(ValueTooLongError);
		const sealedElsewhere = scrubDatabaseError(fields, new RecordNotUniqueError({ collection: 'other', field: 'copy', value: env })) as Error;
		expect(sealedElsewhere.message).not.toContain('cred:v2:');
		const plain = new RecordNotUniqueError({ collection: 'other', field: 'email', value: 'a@b.c' });
		expect(scrubDatabaseError(fields, plain)).toBe(plain);
	});

	it('error answers lose what the request sent under a protected name, GraphQL literals, and envelopes', () => {
		const body = { query: 'mutation { create(data: { encrypted_credentials: "inline-secret" }) }', variables: { d: { platform: 'x', encrypted_credentials: { password: 'var-secret' } } } };
		const secrets = secretsSent(fields, '/graphql', body);
		const answer = { errors: [{ message: 'got invalid value { password: "var-secret" } and "inline-secret" and cred:v2:abcdef01:aa:bb:cc', extensions: { value: 'var-secret' } }] };
		const scrubbed = JSON.stringify(scrubErrorAnswer(answer, secrets));
		expect(scrubbed).not.toMatch(/var-secret|inline-secret|cred:v2:/);
		expect(secretsSent(fields, '/credentials/store', { value: 'route-secret' })).toContain('route-secret');
		expect(secretsSent(fields, '/items/x', { platform: 'not-secret' })).toEqual([]);
	});
});
