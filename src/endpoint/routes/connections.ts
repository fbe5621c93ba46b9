import { CreateProfileAnswer, CreateProfileBody, RevealAnswer, RevealBody, StoreAnswer, StoreBody, UpdateProfileCredsAnswer, UpdateProfileCredsBody } from '../../contracts/connections.js';
import { asUser } from '../../services/caller.js';
import { createProfile, revealConnection, storeConnection, updateProfileCredentials } from '../../services/connections.js';
import { defineRoute } from '../route.js';

export const connectionRoutes = [
	defineRoute({
		method: 'post',
		path: '/create-profile',
		auth: 'user',
		summary: "Create or update the caller's platform connection with encrypted credentials",
		input: { from: 'body', schema: CreateProfileBody },
		response: CreateProfileAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await createProfile(deps, asUser(caller), input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/update-profile-creds',
		auth: 'user',
		summary: "Replace the encrypted credentials of a connection the caller owns",
		input: { from: 'body', schema: UpdateProfileCredsBody },
		response: UpdateProfileCredsAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await updateProfileCredentials(deps, asUser(caller), input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/store',
		auth: 'server',
		summary: 'Encrypt and store credentials on a platform connection (server to server)',
		input: { from: 'body', schema: StoreBody },
		response: StoreAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await storeConnection(deps, caller, input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/reveal',
		auth: 'server',
		summary: "Decrypt a platform connection's credentials (server to server, audited)",
		input: { from: 'body', schema: RevealBody },
		response: RevealAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await revealConnection(deps, caller, input)) }),
	}),
];
