import { describe, expect, it } from 'vitest';
import { identityTokenHash, isIdentityToken, newIdentityToken } from '../../src/crypto/index.js';
import { CreateIdentityBody } from '../../src/contracts/identities.js';
import { guardIdentityDelete, guardIdentityWrite, refuseRecordWrite } from '../../src/hook/handlers/internal-collections.js';
import { memoryCounter, redisCounter, spend, type RedisLike } from '../../src/lib/rate-window.js';
import { viewOf } from '../../src/services/identities.js';
import { msOrNull } from '../../src/lib/dates.js';

describe('identity tokens', () => {
	it('are 256 random bits behind a prefix, stored as their SHA-256 digest', () => {
		const token = newIdentityToken();
		expect(isIdentityToken(token)).toBe(true);
		expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
		expect(newIdentityToken()).not.toBe(token);
		expect(identityTokenHash(token)).toMatch(/^[0-9a-f]{64}$/);
		expect(identityTokenHash(token)).not.toContain(token.slice(4, 20));
		for (const other of ['', 'cid_short', `cid_${'a'.repeat(42)}!`, token + 'x', 'the shared secret']) expect(isIdentityToken(other)).toBe(false);
	});
});

describe('an identity as created', () => {
	it('takes known routes only, lists without repeats, an expiry in the future', () => {
		const ok = CreateIdentityBody.parse({ name: 'scraper 1', routes: ['reveal', 'reveal'], platforms: ['instagram'], collections: [], expires_at: '2099-01-01T00:00:00+02:00' });
		expect(ok).toMatchObject({ routes: ['reveal'], platforms: ['instagram'], collections: null, services: null, rate_limit: null, expires_at: '2098-12-31T22:00:00.000Z' });
		for (const bad of [{ name: 'x', routes: ['create-profile'] }, { name: 'x', routes: [] }, { name: '', routes: ['reveal'] }, { name: 'x', routes: ['reveal'], expires_at: '2001-01-01T00:00:00Z' }, { name: 'x', routes: ['reveal'], rate_limit: 0 }]) {
			expect(CreateIdentityBody.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
		}
	});

	it('reads back the same from every database: JSON as text or parsed, dates as Date, milliseconds or text', () => {
		const when = Date.parse('2030-05-06T07:08:09.000Z');
		for (const [routes, expires] of [['["reveal"]', new Date(when)], [['reveal'], when], ['["reveal"]', String(when)], ['["reveal"]', '2030-05-06 07:08:09']] as const) {
			expect(viewOf({ id: 'i', name: 'n', routes, collections: null, platforms: '[]', services: null, rate_limit: null, expires_at: expires, revoked_at: null })).toMatchObject({
				routes: ['reveal'],
				platforms: null,
				expires_at: '2030-05-06T07:08:09.000Z',
				active: true,
			});
		}
		expect(msOrNull(null)).toBeNull();
		expect(viewOf({ id: 'i', name: 'n', routes: '["reveal"]', revoked_at: new Date() }).active).toBe(false);
		expect(viewOf({ id: 'i', name: 'n', routes: '["reveal"]', expires_at: Date.now() - 1 }).active).toBe(false);
	});
});

describe('writes through Directus', () => {
	it('never create, change or delete an audit entry', () => {
		expect(() => refuseRecordWrite({ outcome: 'revealed' }, 'credentials_audit')).toThrow(/append-only/);
		expect(() => refuseRecordWrite({ state: 'current' }, 'credentials_keys')).toThrow(/unreadable/);
		expect(refuseRecordWrite({ a: 1 }, 'platform_connections')).toEqual({ a: 1 });
	});

	it('are an admin’s alone for identities, whatever a policy grants (an identity could otherwise give itself every scope)', () => {
		const user = { user: 'u', admin: false } as never;
		const admin = { user: 'a', admin: true } as never;
		const token = newIdentityToken();
		expect(() => guardIdentityWrite({ name: 'mine', routes: ['reveal'], token_hash: token }, 'credentials_identities', 'create', user)).toThrow(/permission/i);
		expect(() => guardIdentityWrite({ revoked_at: null }, 'credentials_identities', 'update', user)).toThrow(/permission/i);
		expect(() => guardIdentityDelete(['id'], 'credentials_identities', user)).toThrow(/permission/i);
		expect(guardIdentityWrite({ revoked_at: null }, 'credentials_identities', 'update', admin)).toEqual({ revoked_at: null });
		expect(guardIdentityDelete(['id'], 'credentials_identities', admin)).toEqual(['id']);
		expect(guardIdentityWrite({ a: 1 }, 'platform_connections', 'update', user)).toEqual({ a: 1 });
	});

	it('create an identity only with a generated token, stored as its digest; edit its scope and revocation, never its token', () => {
		expect(() => guardIdentityWrite({ name: 'x', routes: ['reveal'] }, 'credentials_identities', 'create', null)).toThrow(/identities create/);
		expect(() => guardIdentityWrite({ name: 'x', routes: ['reveal'], token_hash: 'f'.repeat(64) }, 'credentials_identities', 'create', null)).toThrow(/Generate the token/);
		const token = newIdentityToken();
		expect(() => guardIdentityWrite({ name: 'x', token_hash: token }, 'credentials_identities', 'create', null)).toThrow(/routes/);
		expect(guardIdentityWrite({ name: 'x', routes: ['reveal', 'reveal'], platforms: [], token_hash: token }, 'credentials_identities', 'create', null)).toEqual({
			name: 'x',
			routes: ['reveal'],
			collections: null,
			platforms: null,
			services: null,
			rate_limit: null,
			token_hash: identityTokenHash(token),
		});
		expect(() => guardIdentityWrite({ token_hash: 'a'.repeat(64) }, 'credentials_identities', 'update', null)).toThrow(/token/);
		expect(() => guardIdentityWrite({ routes: ['everything'] }, 'credentials_identities', 'update', null)).toThrow();
		expect(guardIdentityWrite({ revoked_at: '2030-01-01T00:00:00Z', platforms: [] }, 'credentials_identities', 'update', null)).toEqual({ revoked_at: '2030-01-01T00:00:00Z', platforms: null });
	});
});

describe('rate windows', () => {
	it('allow the limit per minute, name the first refusal only, and start again next minute', async () => {
		let now = 60_000 * 1000;
		const counter = memoryCounter(() => now);
		const results = [];
		for (let i = 0; i < 5; i++) results.push(await spend(counter, 'identity:a', 3));
		expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
		expect(results.map((r) => r.firstRefusal)).toEqual([false, false, false, true, false]);
		expect((await spend(counter, 'identity:b', 3)).allowed).toBe(true);
		now += 60_000;
		expect(await counter.peek('identity:a')).toBe(0);
		expect((await spend(counter, 'identity:a', 3)).allowed).toBe(true);
	});

	it('count in Redis when there is one, and in the process when Redis fails', async () => {
		const store = new Map<string, number>();
		let down = false;
		const redis: RedisLike = {
			multi() {
				const ops: string[] = [];
				const pipeline = {
					incr: (key: string) => (ops.push(key), pipeline),
					pexpire: () => pipeline,
					exec: async () => {
						if (down) throw new Error('connection lost');
						const key = ops[0]!;
						store.set(key, (store.get(key) ?? 0) + 1);
						return [[null, store.get(key)]] as Array<[Error | null, unknown]>;
					},
				};
				return pipeline;
			},
			get: async (key) => (down ? Promise.reject(new Error('connection lost')) : String(store.get(key) ?? 0)),
		};
		const errors: unknown[] = [];
		const counter = redisCounter(redis, 'ns', memoryCounter(), (e) => errors.push(e));
		expect(await counter.hit('k')).toBe(1);
		expect(await counter.hit('k')).toBe(2);
		expect([...store.keys()][0]).toMatch(/^ns:k:\d+$/);
		expect(await counter.peek('k')).toBe(2);
		down = true;
		expect(await counter.hit('k')).toBe(1);
		expect(errors).toHaveLength(1);
	});
});
