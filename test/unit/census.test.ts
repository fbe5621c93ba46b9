import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyring, sealValue } from '../../src/crypto/index.js';
import { censusOf, tallyStored, type Census } from '../../src/lifecycle/census.js';
import { storedValue, type Target } from '../../src/lifecycle/scan.js';

/**
 * The census groups in SQL what its own one-by-one pass (tallyStored, classifyStored underneath)
 * reads a value at a time; on a real SQLite file both must agree for any text. (PostgreSQL's jsonb spacing and MariaDB's case-insensitive
 * collation are tried by the lifecycle integration test on those databases.)
 */
let dir: string;
let db: Knex;
const ring = makeKeyring(Buffer.alloc(32, 7));
const other = makeKeyring(Buffer.alloc(32, 9));
const target = (json: boolean): Target => ({ collection: json ? 'j' : 't', field: 'v', pk: 'id', pkType: 'uuid', json });
const seal = (r: typeof ring, json: boolean) => {
	const envelope = sealValue(r, { token: 'x' }, { collection: 'c', field: 'f', pk: randomUUID() });
	return json ? JSON.stringify({ enc: envelope }) : envelope;
};

/** What the census must say: every value read and counted one by one. */
function expected(json: boolean, texts: (string | null)[]): Census {
	const census: Census = { rows: texts.length, empty: 0, byKeyId: {}, legacy: 0, directusEncrypt: 0, plaintext: 0 };
	for (const text of texts) tallyStored(census, storedValue(target(json), text));
	return census;
}

async function fill(json: boolean, texts: (string | null)[]) {
	const table = target(json).collection;
	await db(table).delete();
	for (let i = 0; i < texts.length; i += 200) await db(table).insert(texts.slice(i, i + 200).map((v) => ({ id: randomUUID(), v })));
}

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), 'census-'));
	db = knex({ client: 'sqlite3', connection: { filename: join(dir, 'db.sqlite') }, useNullAsDefault: true });
	for (const table of ['t', 'j']) await db.schema.createTable(table, (t) => (t.string('id').primary(), t.text('v')));
});
afterAll(async () => {
	await db.destroy();
	rmSync(dir, { recursive: true, force: true });
});

describe('census', () => {
	it('counts text columns by key id, empty, legacy and plaintext, without mistaking look-alikes', async () => {
		const a = seal(ring, false);
		const texts = [
			a,
			seal(ring, false),
			seal(other, false),
			null,
			'plain secret',
			'CRED:V2:' + a.slice(8), // upper case: plaintext, not an envelope
			'cred:v2:ZZZZZZZZ:a:b:c', // broken: counted nowhere but rows
			'cred:v2:0123456', // too short for a key id and its colon
			'AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==:AAAA', // the seed's legacy iv:tag:ct
		];
		await fill(false, texts);
		const census = await censusOf(db, target(false), 2);
		expect(census).toEqual(expected(false, texts));
		expect(census).toMatchObject({ rows: 9, empty: 1, byKeyId: { [ring.current.id]: 2, [other.current.id]: 1 } });
		expect(census.plaintext).toBeGreaterThanOrEqual(2);
	});

	it('counts JSON columns: {"enc"} in either spacing, and nothing with a second member', async () => {
		const envelope = JSON.parse(seal(ring, true)).enc as string;
		const texts = [
			seal(ring, true),
			`{"enc": "${envelope}"}`,
			`{ "enc" : "${envelope}" }`, // odd spacing: read one by one, still counted
			`{"enc":"${envelope}","x":1}`,
			`{"enc":"${envelope}","x":"y"}`, // closes with "} too: the quote count tells
			`{"x":"${envelope}"}`,
			JSON.stringify({ enc: 'v1:AAAA:BBBB:CCCC' }),
			JSON.stringify({ token: 'plain' }),
			'null',
			null,
		];
		await fill(true, texts);
		const census = await censusOf(db, target(true), 3);
		expect(census).toEqual(expected(true, texts));
		expect(census.byKeyId).toEqual({ [ring.current.id]: 3 });
	});

	it('agrees with one-by-one classification for any text', async () => {
		const a = seal(ring, false);
		const piece = fc.oneof(
			fc.constantFrom('cred:v2:', 'CRED:v2:', '{"enc":"', '{"enc": "', '"}', '","x":"', '"', ':', ring.current.id, 'v1:', '}', '{'),
			fc.string({ maxLength: 6 }),
			fc.constant(a),
		);
		const text = fc.oneof(fc.constant(null), fc.array(piece, { maxLength: 6 }).map((parts) => parts.join('')));
		await fc.assert(
			fc.asyncProperty(fc.boolean(), fc.array(text, { minLength: 1, maxLength: 40 }), async (json, texts) => {
				await fill(json, texts);
				expect(await censusOf(db, target(json), 7)).toEqual(expected(json, texts));
			}),
			{ numRuns: 40 },
		);
	});
});
