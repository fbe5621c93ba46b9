import { z } from 'zod';
import { createVaultEntry, deleteVaultEntry, listVaultEntries, readVaultEntry, revealVaultKey } from '../../services/vault.js';
import { accountabilityOf } from '../auth.js';
import { defineRoute } from '../route.js';
import { uuidField } from '../schemas.js';

const REQUIRED = 'service, name, and key are required';
const SERVICE = /^(openai|anthropic|binance|custom\.[a-z0-9_-]{1,64})$/;

const trimmedRequired = z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string({ error: REQUIRED }).min(1, REQUIRED));

/** Presence first (one message for all three, as the seed), then each field's own rule. */
export const VaultCreateBody = z
	.object({ service: trimmedRequired, name: trimmedRequired, key: trimmedRequired }, { error: REQUIRED })
	.pipe(
		z.object({
			service: z.string().regex(SERVICE, 'service must be openai, anthropic, binance or custom.<name> (1-64 of a-z, 0-9, _ and -)'),
			name: z.string().max(128, 'name is longer than 128 characters'),
			key: z.string().max(64 * 1024, 'key is longer than 64 KB'),
		}),
	);

export const VaultListQuery = z.object({ service: z.string().max(80).optional() });
export const VaultIdParams = z.object({ id: uuidField('id') });

export const VaultEntry = z.object({
	id: z.string(),
	service: z.string(),
	name: z.string(),
	created_at: z.number().int().describe('Unix time, seconds'),
	last_used_at: z.number().int().nullable().describe('Unix time, seconds'),
});

export const vaultRoutes = [
	defineRoute({
		method: 'post',
		path: '/reveal-key',
		auth: 'server',
		summary: 'Decrypt an API key from the vault (server to server, audited); sets last_used_at',
		input: { from: 'body', schema: VaultIdParams },
		response: z.object({ success: z.literal(true), id: z.string(), service: z.string(), name: z.string(), key: z.string() }),
		handler: async (input, { deps, req, actor }) => ({ success: true, ...(await revealVaultKey(deps, req, actor, input.id)) }),
	}),
	defineRoute({
		method: 'post',
		path: '/',
		auth: 'user',
		summary: 'Store an API key in the caller’s vault; the key is never sent back',
		input: { from: 'body', schema: VaultCreateBody },
		response: VaultEntry,
		status: 201,
		handler: async (input, { deps, actor }) => createVaultEntry(deps, accountabilityOf(actor), input),
	}),
	defineRoute({
		method: 'get',
		path: '/',
		auth: 'user',
		summary: 'The caller’s vault entries (metadata only), optionally for one service',
		input: { from: 'query', schema: VaultListQuery },
		response: z.array(VaultEntry),
		handler: async (input, { deps, actor }) => listVaultEntries(deps, accountabilityOf(actor), input.service),
	}),
	defineRoute({
		method: 'get',
		path: '/:id',
		auth: 'user',
		summary: 'One of the caller’s vault entries (metadata only)',
		input: { from: 'params', schema: VaultIdParams },
		response: VaultEntry,
		handler: async (input, { deps, actor }) => readVaultEntry(deps, accountabilityOf(actor), input.id),
	}),
	defineRoute({
		method: 'delete',
		path: '/:id',
		auth: 'user',
		summary: 'Delete one of the caller’s vault entries',
		input: { from: 'params', schema: VaultIdParams },
		response: z.null(),
		status: 204,
		handler: async (input, { deps, actor }) => deleteVaultEntry(deps, accountabilityOf(actor), input.id),
	}),
];
