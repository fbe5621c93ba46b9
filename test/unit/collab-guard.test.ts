import type { SchemaOverview } from '@directus/types';
import { describe, expect, it } from 'vitest';
import { CollabGuard, roomHash } from '../../src/hook/handlers/guard-collab.js';
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
