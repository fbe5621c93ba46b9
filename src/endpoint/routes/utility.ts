import { DecryptAnswer, DecryptBody, EncryptAnswer, EncryptBody } from '../../contracts/utility.js';
import { decryptUtility, encryptUtility } from '../../services/utility.js';
import { defineRoute } from '../route.js';

export const utilityRoutes = [
	defineRoute({
		method: 'post',
		path: '/encrypt',
		auth: 'server',
		summary: 'Encrypt any JSON value for a trusted server process; not bound to a row',
		input: { from: 'body', schema: EncryptBody },
		response: EncryptAnswer,
		handler: async (input, { deps }) => ({ success: true, encrypted: encryptUtility(deps, input.data) }),
	}),
	defineRoute({
		method: 'post',
		path: '/decrypt',
		auth: 'server',
		summary: 'Decrypt a value from /encrypt or a legacy value, or a protected field of a row (audited)',
		input: { from: 'body', schema: DecryptBody },
		response: DecryptAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, data: await decryptUtility(deps, caller, input) }),
	}),
];
