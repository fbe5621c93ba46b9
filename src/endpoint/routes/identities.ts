import { z } from 'zod';
import { CreateIdentityAnswer, CreateIdentityBody, IdentityIdParams, IdentityView } from '../../contracts/identities.js';
import { NotConfiguredError } from '../../errors.js';
import { IDENTITIES_COLLECTION } from '../../schema/collections.js';
import type { ServiceDeps } from '../../services/deps.js';
import { createIdentity, listIdentities, revokeIdentity } from '../../services/identities.js';
import { defineRoute } from '../route.js';

/** The collection comes with `credentials setup`: until it has run there is nothing to list or create. */
const identities = (deps: ServiceDeps) => {
	if (!deps.schema.collections[IDENTITIES_COLLECTION]) throw new NotConfiguredError({ reason: 'Machine identities need `credentials setup` to have run once' });
	return deps.database;
};

export const identityRoutes = [
	defineRoute({
		method: 'get',
		path: '/identities',
		auth: 'admin',
		summary: 'Machine identities (admins): scopes, expiry, revocation, last use; never a token',
		response: z.array(IdentityView),
		handler: async (_input, { deps }) => listIdentities(identities(deps)),
	}),
	defineRoute({
		method: 'post',
		path: '/identities',
		auth: 'admin',
		summary: 'Create a machine identity (admins); its token is in this answer only',
		input: { from: 'body', schema: CreateIdentityBody },
		response: CreateIdentityAnswer,
		status: 201,
		handler: async (input, { deps }) => createIdentity(identities(deps), input),
	}),
	defineRoute({
		method: 'post',
		path: '/identities/:id/revoke',
		auth: 'admin',
		summary: 'Revoke a machine identity (admins): its token answers 401 from the next request on, on every instance',
		input: { from: 'params', schema: IdentityIdParams },
		response: IdentityView,
		handler: async (input, { deps }) => revokeIdentity(identities(deps), input.id),
	}),
];
