import { CreateDownloadCredAnswer, CreateDownloadCredBody, RevealDownloadCredAnswer, RevealDownloadCredBody } from '../../contracts/download-credentials.js';
import { asUser } from '../../services/caller.js';
import { createDownloadCredential, revealDownloadCredential } from '../../services/download-credentials.js';
import { defineRoute } from '../route.js';

export const downloadCredentialRoutes = [
	defineRoute({
		method: 'post',
		path: '/create-download-cred',
		auth: 'user',
		summary: 'Store yt-dlp credentials (password or Netscape cookies) for a connection the caller owns',
		input: { from: 'body', schema: CreateDownloadCredBody },
		response: CreateDownloadCredAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await createDownloadCredential(deps, asUser(caller), input)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/reveal-download-cred',
		auth: 'server',
		summary: 'Decrypt download credentials (server to server, audited)',
		input: { from: 'body', schema: RevealDownloadCredBody },
		response: RevealDownloadCredAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await revealDownloadCredential(deps, caller, input)) }),
	}),
];
