import { z } from 'zod';
import { AuditAnswer, AuditQuery, CreateIdentityAnswer, CreateIdentityBody, IdentityIdParams, IdentityView } from '../../contracts/identities.js';
import { NotConfiguredError } from '../../errors.js';
import { AUDIT_COLLECTION, IDENTITIES_COLLECTION } from '../../schema/collections.js';
import { readAudit } from '../../services/audit-log.js';
import type { ServiceDeps } from '../../services/deps.js';
import { createIdentity, listIdentities, revokeIdentity } from '../../services/identities.js';
import { defineRoute } from '../route.js';

/** Both collections come with `credentials setup`: until it has run there is nothing to list, create or read. */
const tableOf = (collection: string, reason: string) => (deps: ServiceDeps) => {
	if (!deps.schema.collections[collection]) throw new NotConfiguredError({ reason });
	return deps.database;
};
const identities = tableOf(IDENTITIES_COLLECTION, 'Machine identities need `credentials setup` to have run once');
const audit = tableOf(AUDIT_COLLECTION, 'The audit needs `credentials setup` to have run once');

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
	defineRoute({
		method: 'get',
		path: '/audit',
		auth: 'admin',
		summary: 'The audit of record (admins): entries newest first, paginated and filtered, with a per-day, per-caller and per-route summary',
		input: { from: 'query', schema: AuditQuery },
		response: AuditAnswer,
		handler: async (input, { deps }) => readAudit(audit(deps), input),
	}),
];
