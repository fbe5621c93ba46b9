import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { client, createCredentialsUser } from '../../tools/harness/api.js';
import { startDirectus, type Instance, type StartOptions } from '../../tools/harness/directus.js';

export type Api = ReturnType<typeof client>;
export type TestUser = Awaited<ReturnType<typeof createCredentialsUser>>;

export interface Suite<Users extends readonly TestUser[] = TestUser[]> {
	directus: Instance;
	api: Api;
	/** Credentials Users, in the order their names were given. */
	users: Users;
}

/**
 * The one Directus a test file shares: started (with one Credentials User per name) before the
 * file's own `beforeAll` hooks, which run after it in order, and stopped after its tests. The
 * answer is filled in when the hook has run; a file takes what it needs from it in a `beforeAll`.
 */
export function useDirectus<const Names extends readonly string[] = []>(
	options: StartOptions & { users?: Names } = {},
): Suite<{ [K in keyof Names]: TestUser }> {
	const users: TestUser[] = [];
	const suite = { users } as unknown as Suite<{ [K in keyof Names]: TestUser }>;
	beforeAll(async () => {
		suite.directus = await startDirectus(options);
		suite.api = client(suite.directus);
		for (const name of options.users ?? []) users.push(await createCredentialsUser(suite.directus, name));
	}, 600_000);
	afterAll(async () => suite.directus?.stop());
	return suite;
}

/** Websockets on for REST subscriptions (GraphQL's left to each file). */
export const WEBSOCKETS = { WEBSOCKETS_ENABLED: 'true', WEBSOCKETS_REST_ENABLED: 'true' } as const;

/** An o2m alias an admin might add: connection → its sessions, so reads can reach sessions through a connection. */
export async function addSessionsAlias({ directus, api }: Suite<readonly TestUser[]>) {
	const field = await api('POST', '/fields/platform_connections', { token: directus.adminToken, body: { field: 'sessions', type: 'alias', meta: { special: ['o2m'], interface: 'list-o2m' } } });
	expect(field.status, field.text).toBe(200);
	// The whole relation, as the Data Studio sends it: Directus 11's RelationsService reads collection, field and
	// related_collection from the body, and a body without them crashes its process (11.17.4).
	const body = { collection: 'platform_sessions', field: 'creator_profile_id', related_collection: 'platform_connections', schema: { on_delete: 'CASCADE' }, meta: { one_field: 'sessions' } };
	const relation = await api('PATCH', '/relations/platform_sessions/creator_profile_id', { token: directus.adminToken, body });
	expect(relation.status, relation.text).toBe(200);
}

/** A collection as the Data Studio creates one, with UUID keys or (the Studio's default) auto-increment integers; its name is new each time. */
export async function createCollection({ directus, api }: Pick<Suite, 'directus' | 'api'>, keys: 'uuid' | 'integer', prefix = 'c') {
	const collection = `${prefix}_${keys}_${randomBytes(3).toString('hex')}`;
	const id =
		keys === 'uuid'
			? { field: 'id', type: 'uuid', meta: { hidden: true, readonly: true, interface: 'input', special: ['uuid'] }, schema: { is_primary_key: true, length: 36, has_auto_increment: false } }
			: { field: 'id', type: 'integer', meta: { hidden: true, interface: 'input', readonly: true }, schema: { is_primary_key: true, has_auto_increment: true } };
	const created = await api('POST', '/collections', { token: directus.adminToken, body: { collection, meta: {}, schema: {}, fields: [id] } });
	expect(created.status, created.text).toBe(200);
	return collection;
}
