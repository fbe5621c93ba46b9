import { z } from 'zod';
import { createProfile, revealConnection, storeConnection, updateProfileCredentials } from '../../services/connections.js';
import { accountabilityOf } from '../auth.js';
import { defineRoute } from '../route.js';
import { credentialsObject, optionalText, platformField, uuidField } from '../schemas.js';

export const CreateProfileBody = z.object({
	platform: platformField(),
	platform_username: optionalText('platform_username'),
	credentials: credentialsObject(),
});

export const UpdateProfileCredsBody = z.object({
	creator_profile_id: uuidField('creator_profile_id'),
	credentials: credentialsObject(),
	platform_username: optionalText('platform_username'),
});

export const StoreBody = z.object({
	creatorProfileId: uuidField('creatorProfileId'),
	credentials: credentialsObject(),
});

export const RevealBody = z.object({ creatorProfileId: uuidField('creatorProfileId') });

export const connectionRoutes = [
	defineRoute({
		method: 'post',
		path: '/create-profile',
		auth: 'user',
		summary: "Create or update the caller's platform connection with encrypted credentials",
		input: { from: 'body', schema: CreateProfileBody },
		response: z.object({ success: z.literal(true), id: z.string(), updated: z.boolean() }),
		handler: async (input, { deps, actor }) => ({ success: true, ...(await createProfile(deps, accountabilityOf(actor), input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/update-profile-creds',
		auth: 'user',
		summary: "Replace the encrypted credentials of a connection the caller owns",
		input: { from: 'body', schema: UpdateProfileCredsBody },
		response: z.object({ success: z.literal(true), id: z.string() }),
		handler: async (input, { deps, actor }) => ({ success: true, ...(await updateProfileCredentials(deps, accountabilityOf(actor), input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/store',
		auth: 'server',
		summary: 'Encrypt and store credentials on a platform connection (server to server)',
		input: { from: 'body', schema: StoreBody },
		response: z.object({ success: z.literal(true), creatorProfileId: z.string(), updated: z.string() }),
		handler: async (input, { deps }) => ({ success: true, ...(await storeConnection(deps, input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/reveal',
		auth: 'server',
		summary: "Decrypt a platform connection's credentials (server to server, audited)",
		input: { from: 'body', schema: RevealBody },
		response: z.object({ success: z.literal(true), creatorProfileId: z.string(), credentials: z.record(z.string(), z.unknown()) }),
		handler: async (input, { deps, req, actor }) => ({ success: true, ...(await revealConnection(deps, req, actor, input)) }),
	}),
];
