import {
	GetPlatformSessionAnswer,
	GetPlatformSessionBody,
	RevokePlatformSessionAnswer,
	RevokePlatformSessionBody,
	StorePlatformSessionAnswer,
	StorePlatformSessionBody,
} from '../../contracts/sessions.js';
import { asUser } from '../../services/caller.js';
import { getPlatformSession, revokePlatformSession, storePlatformSession } from '../../services/sessions.js';
import { defineRoute } from '../route.js';

export const sessionRoutes = [
	defineRoute({
		method: 'post',
		path: '/store-platform-session',
		auth: 'user',
		summary: 'Store browser cookies captured for a connection the caller owns',
		input: { from: 'body', schema: StorePlatformSessionBody },
		response: StorePlatformSessionAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await storePlatformSession(deps, asUser(caller), input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/get-platform-session',
		auth: 'server',
		summary: 'The newest session that is neither revoked nor expired, decrypted (server to server, audited)',
		input: { from: 'body', schema: GetPlatformSessionBody },
		response: GetPlatformSessionAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await getPlatformSession(deps, caller, input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/revoke-platform-session',
		auth: 'user',
		summary: 'Revoke a platform session the caller owns; it is never returned again',
		input: { from: 'body', schema: RevokePlatformSessionBody },
		response: RevokePlatformSessionAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await revokePlatformSession(deps, asUser(caller), input)) }),
	}),
];
