import type { Request } from 'express';
import type { z } from 'zod';
import { DecryptError, openStored, sealValue, type ValueContext } from '../crypto/index.js';
import type { Actor } from '../endpoint/auth.js';
import { RouteError } from '../endpoint/http.js';
import type { DecryptBody } from '../endpoint/routes/utility.js';
import { recordReveal } from './audit.js';
import { ring, type ServiceDeps } from './deps.js';
import { readRaw } from './rows.js';

/**
 * The seed's encrypt/decrypt utility. Its values belong to no row, so they get a context of
 * their own: a row's envelope cannot be opened here without naming the row (which is audited),
 * and a utility envelope cannot be planted into a protected field.
 */
const UTILITY: ValueContext = { collection: '$credentials-utility', field: 'data', pk: '' };

export function encryptUtility(deps: ServiceDeps, data: unknown) {
	return { enc: sealValue(ring(deps), data, UTILITY) };
}

export async function decryptUtility(deps: ServiceDeps, req: Request, actor: Actor, input: z.infer<typeof DecryptBody>) {
	const keys = ring(deps);
	if ('encrypted' in input) {
		await recordReveal(deps, req, actor, { collection: UTILITY.collection, item: 'encrypted value', route: 'decrypt' });
		try {
			return openStored(keys, input.encrypted, UTILITY);
		} catch (error) {
			if (error instanceof DecryptError) throw new RouteError(400, `encrypted value cannot be decrypted: ${error.message}`);
			throw error;
		}
	}
	const { collection, field } = input;
	if (!deps.fields.has(collection, field)) throw new RouteError(400, `${collection}.${field} is not a protected field`);
	const pkField = deps.schema.collections[collection]?.primary;
	if (!pkField) throw new RouteError(400, `${collection}.${field} is not a protected field`);
	const { key, row } = await readRaw(deps, collection, String(input.id), [field]);
	if (row[field] === null || row[field] === undefined) throw new RouteError(404, `No value stored in ${collection}.${field}`);
	await recordReveal(deps, req, actor, { collection, item: key, route: 'decrypt' });
	return openStored(keys, row[field], { collection, field, pk: key });
}
