import type { DecryptInput } from '../contracts/utility.js';
import { classifyStored, DecryptError, openStored, sealValue, type ValueContext } from '../crypto/index.js';
import { InvalidInputError } from '../errors.js';
import type { Caller } from './caller.js';
import { ring, type ServiceDeps } from './deps.js';
import { hasRowLimits } from './identity-scope.js';
import { reporting, revealField } from './reveal.js';

/**
 * The seed's encrypt/decrypt utility. Its values belong to no row, so they get a context of
 * their own: a row's envelope cannot be opened here without naming the row (which is audited),
 * and a utility envelope cannot be planted into a protected field.
 */
const UTILITY: ValueContext = { collection: '$credentials-utility', field: 'data', pk: '' };

export function encryptUtility(deps: ServiceDeps, data: unknown) {
	return { enc: sealValue(ring(deps), data, UTILITY) };
}

export async function decryptUtility(deps: ServiceDeps, caller: Caller, input: DecryptInput) {
	const keys = ring(deps);
	if ('encrypted' in input) {
		const { encrypted } = input;
		// A value of no row: reported with the utility's own collection and no item.
		const opened = await reporting(deps, caller, { route: 'decrypt', collection: UTILITY.collection, item: null }, async () => {
			// A legacy value names no row, so it could be a row's, copied: not for an identity limited to some rows.
			if (hasRowLimits(caller) && classifyStored(encrypted).format !== 'v2') {
				throw new InvalidInputError({ reason: 'encrypted value is in a legacy format, which names no row: an identity limited to some rows opens only values from /encrypt' });
			}
			try {
				return { key: null, value: openStored(keys, encrypted, UTILITY) };
			} catch (error) {
				if (error instanceof DecryptError) throw new InvalidInputError({ reason: `encrypted value cannot be decrypted: ${error.message}` });
				throw error;
			}
		});
		return opened.value;
	}
	const { collection, field } = input;
	if (!deps.fields.has(collection, field) || !deps.schema.collections[collection]?.primary) {
		throw new InvalidInputError({ reason: `${collection}.${field} is not a protected field` });
	}
	const target = { collection, field, id: String(input.id), route: 'decrypt', emptyIsMissing: true, notFound: `No value stored in ${collection}.${field}` };
	return (await revealField(deps, caller, target)).value;
}
