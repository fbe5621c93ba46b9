import { z } from 'zod';
import { RevealKeyAnswer, VaultCreateBody, VaultEntry, VaultIdParams, VaultListQuery } from '../../contracts/vault.js';
import { asUser } from '../../services/caller.js';
import { createVaultEntry, deleteVaultEntry, listVaultEntries, readVaultEntry, revealVaultKey } from '../../services/vault.js';
import { defineRoute } from '../route.js';

export const vaultRoutes = [
	defineRoute({
		method: 'post',
		path: '/reveal-key',
		auth: 'server',
		summary: 'Decrypt an API key from the vault (server to server, audited); sets last_used_at',
		input: { from: 'body', schema: VaultIdParams },
		response: RevealKeyAnswer,
		handler: async (input, { deps, caller }) => ({ success: true, ...(await revealVaultKey(deps, caller, input.id)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/',
		auth: 'user',
		summary: 'Store an API key in the caller’s vault; the key is never sent back',
		input: { from: 'body', schema: VaultCreateBody },
		response: VaultEntry,
		status: 201,
		handler: async (input, { deps, caller }) => createVaultEntry(deps, asUser(caller), input),
	}),
	defineRoute({
		method: 'get',
		path: '/',
		auth: 'user',
		summary: 'The caller’s vault entries (metadata only), optionally for one service',
		input: { from: 'query', schema: VaultListQuery },
		response: z.array(VaultEntry),
		handler: async (input, { deps, caller }) => listVaultEntries(deps, asUser(caller), input.service),
	}),
	defineRoute({
		method: 'get',
		path: '/:id',
		auth: 'user',
		summary: 'One of the caller’s vault entries (metadata only)',
		input: { from: 'params', schema: VaultIdParams },
		response: VaultEntry,
		handler: async (input, { deps, caller }) => readVaultEntry(deps, asUser(caller), input.id),
	}),
	defineRoute({
		method: 'delete',
		path: '/:id',
		auth: 'user',
		summary: 'Delete one of the caller’s vault entries',
		input: { from: 'params', schema: VaultIdParams },
		response: z.null(),
		status: 204,
		handler: async (input, { deps, caller }) => deleteVaultEntry(deps, asUser(caller), input.id),
	}),
];
