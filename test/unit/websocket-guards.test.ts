import type { SchemaOverview } from '@directus/types';
import { describe, expect, it } from 'vitest';
import { CollabGuard, roomHash } from '../../src/hook/handlers/guard-collab.js';
import { SubscriptionGuard } from '../../src/hook/handlers/guard-subscriptions.js';
import { ProtectedFields } from '../../src/schema/protected-fields.js';

const fields = new ProtectedFields([
	{ collection: 'platform_connections', field: 'encrypted_credentials' },
	{ collection: 'platform_sessions', field: 'encrypted_cookies' },
]);
const schema = {
	collections: {
		platform_connections: { primary: 'id', fields: { id: {}, platform: {}, encrypted_credentials: {}, sessions: {} } },
		platform_sessions: { primary: 'id', fields: { id: {}, platform: {}, encrypted_cookies: {} } },
	},
	relations: [{ collection: 'platform_sessions', field: 'creator_profile_id', related_collection: 'platform_connections', meta: { one_field: 'sessions' } }],
} as unknown as SchemaOverview;
const admin = { user: 'a1', role: null, admin: true } as never;
const ctx = { database: null as never, schema, accountability: admin };

describe('collaborative editing guard', () => {
	it('takes protected fields out of every change, through relations and the detailed update syntax', async () => {
		const guard = new CollabGuard(fields);
		const joined = await guard.message(
			{ type: 'collab', action: 'join', collection: 'platform_connections', item: 'i1', version: null, initialChanges: { encrypted_credentials: 's', platform: 'p' } },
			ctx,
		);
		expect(joined['initialChanges']).toEqual({ platform: 'p' });
		const room = roomHash('platform_connections', 'i1', null);
		expect(await guard.message({ type: 'collab', action: 'update', room, field: 'encrypted_credentials', changes: 's' }, ctx)).toEqual({
			type: 'collab',
			action: 'update',
			room,
			field: 'encrypted_credentials',
			changes: undefined,
		});
		const nested = await guard.message(
			{ type: 'collab', action: 'update', room, field: 'sessions', changes: { create: [{ platform: 'x', encrypted_cookies: 'c' }], update: [{ id: 's1', encrypted_cookies: 'c' }], delete: [] } },
			ctx,
		);
		expect(nested['changes']).toEqual({ create: [{ platform: 'x' }], update: [{ id: 's1' }], delete: [] });
		const all = await guard.message({ type: 'collab', action: 'updateAll', room, changes: { platform: 'p', encrypted_credentials: 's', sessions: [{ encrypted_cookies: 'c' }] } }, ctx);
		expect(all['changes']).toEqual({ platform: 'p', sessions: [{}] });
	});

	it('holds back a field protected anywhere when the room was not joined here', async () => {
		const guard = new CollabGuard(fields);
		const all = await guard.message({ type: 'collab', action: 'updateAll', room: 'unknown', changes: { encrypted_cookies: 'c', platform: 'p' } }, ctx);
		expect(all['changes']).toEqual({ platform: 'p' });
		expect((await guard.message({ type: 'collab', action: 'update', room: 'unknown', field: 'encrypted_credentials', changes: 's' }, ctx))['changes']).toBeUndefined();
	});

	it('refuses a join on an owned collection without a user or an item', async () => {
		const guard = new CollabGuard(fields);
		const user = { ...ctx, accountability: null };
		await expect(guard.message({ type: 'collab', action: 'join', collection: 'platform_connections', item: 'i1', version: null }, user)).rejects.toMatchObject({ status: 403 });
		const someone = { ...ctx, accountability: { user: 'u1', role: null, admin: false } as never };
		await expect(guard.message({ type: 'collab', action: 'join', collection: 'platform_connections', item: null, version: null }, someone)).rejects.toMatchObject({ status: 403 });
	});
});

describe('subscription delete events', () => {
	const owner = 'u1';
	const user = (id: string) => ({ accountability: { user: id, role: null, admin: false } as never, send: () => undefined });
	// Just what beforeDelete uses of knex: select(...).whereIn(...) resolving to the rows.
	const database = ((rows: Record<string, unknown>[]) => () => ({ select: () => ({ whereIn: async () => rows }) })) as never as (rows: Record<string, unknown>[]) => never;

	it('reach a non-admin subscriber with the keys of their own rows only, over REST and GraphQL', async () => {
		const guard = new SubscriptionGuard();
		await guard.beforeDelete('platform_connections', ['r1', 'r2'], database([{ id: 'r1', owner }, { id: 'r2', owner: 'u2' }]), null);
		const mine = user(owner);
		const theirs = user('u2');
		await guard.onSubscribe({ type: 'subscribe', collection: 'platform_connections', uid: 's' }, mine, database([]), schema);
		const rest = JSON.stringify({ type: 'subscription', event: 'delete', data: ['r1', 'r2'], uid: 's' });
		expect(JSON.parse(guard.outgoing(mine, rest) as string).data).toEqual(['r1']);
		const gql = (key: string) => JSON.stringify({ id: '1', type: 'next', payload: { data: { platform_connections_mutated: { key, data: null, event: 'delete' } } } });
		expect(guard.outgoing(mine, gql('r1'))).toBe(gql('r1'));
		expect(guard.outgoing(mine, gql('r2'))).toBeNull();
		expect(guard.outgoing(theirs, gql('r2'))).toBe(gql('r2'));
		// A key deleted elsewhere (another instance) is withheld; admins and other collections pass.
		expect(guard.outgoing(mine, gql('unknown'))).toBeNull();
		expect(guard.outgoing({ ...mine, accountability: { user: 'a', admin: true } as never }, gql('r2'))).toBe(gql('r2'));
		const articles = JSON.stringify({ id: '1', type: 'next', payload: { data: { articles_mutated: { key: 9, data: null, event: 'delete' } } } });
		expect(guard.outgoing(mine, articles)).toBe(articles);
	});

	it('the wrapped send skips what is withheld and still calls back', () => {
		const guard = new SubscriptionGuard();
		const sent: unknown[] = [];
		class FakeSocket {
			accountability = { user: 'u1', role: null, admin: false };
			send(data: unknown, cb?: () => void) {
				sent.push(data);
				cb?.();
			}
		}
		expect(guard.guardSends(FakeSocket)).toBe(true);
		let called = 0;
		const socket = new FakeSocket();
		socket.send(JSON.stringify({ id: '1', type: 'next', payload: { data: { platform_connections_mutated: { key: 'x', data: null, event: 'delete' } } } }), () => called++);
		socket.send('{"type":"pong"}', () => called++);
		expect(sent).toEqual(['{"type":"pong"}']);
		expect(called).toBe(2);
	});
});
