import type { SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import { FieldNotProtectableError, ProtectedFieldInUseError } from '../../errors.js';
import { censusOf, sealedCount } from '../../lifecycle/census.js';
import { resolveTargets } from '../../lifecycle/scan.js';
import { SECRET_INTERFACE } from '../../schema/collections.js';
import { PROTECTED_MARK, cannotProtect, specialList, withMark, withoutMark } from '../../schema/field-registry.js';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { hasEncryptSpecial } from '../../schema/encrypt-special.js';

/** Both at once, every write would be sealed by the hook and then encrypted again by Directus. */
const BOTH_ENCRYPTIONS =
	"it uses Directus's encrypt special, which would encrypt every sealed value a second time; `npx directus credentials adopt-encrypt-special` takes the special off and moves its values";

type Payload = Record<string, unknown>;
interface FieldWriteContext {
	schema: SchemaOverview | null;
	database: Knex;
}

/**
 * `fields.create` / `fields.update`: the data model's side of protection. Choosing the "Encrypted
 * secret" interface (or putting the mark in `special`, as an API call or `schema apply` does) protects
 * the field; choosing another interface (or taking the mark out) un-protects it — refused while any
 * value in it is sealed. Both payload shapes Directus emits are handled: FieldsService's
 * `{ field, type, meta: { interface, special } }` and, when a collection is created with its fields,
 * the flat `directus_fields` row `{ collection, field, interface, special }`. The payload is changed in
 * place: FieldsService looks the row up with the object it passed.
 */
export async function onFieldWrite(fields: ProtectedFields, payload: Payload, eventCollection: string, context: FieldWriteContext): Promise<Payload> {
	if (!payload || typeof payload !== 'object' || !context.schema) return payload;
	const flat = eventCollection === 'directus_fields';
	const collection = flat ? (payload['collection'] as string | undefined) : eventCollection;
	const field = payload['field'] as string | undefined;
	const meta = (flat ? payload : payload['meta']) as Payload | null | undefined;
	if (!collection || !field) return payload;
	const current = context.schema.collections[collection]?.fields[field];
	const wasMarked = current?.special?.includes(PROTECTED_MARK) ?? false;
	// A marked field keeps a type that holds an envelope: a change to a 255-character string would cut every sealed value.
	const newType = flat ? undefined : (payload['type'] as string | undefined);
	if (wasMarked && newType !== undefined && newType !== current?.type) {
		const reason = cannotProtect(context.schema, collection, newType);
		if (reason) throw new FieldNotProtectableError({ collection, field, reason });
	}
	if (!meta || typeof meta !== 'object') return payload;
	const choosesInterface = 'interface' in meta;
	const setsSpecial = 'special' in meta;
	if (!choosesInterface && !setsSpecial) return payload;
	const special = setsSpecial ? specialList(meta['special']) : (current?.special ?? []);
	// Built-in fields and CREDENTIALS_ENCRYPTED_FIELDS are protected whatever their interface or special says.
	if (fields.configuredHas(collection, field)) {
		if (hasEncryptSpecial(special)) throw new FieldNotProtectableError({ collection, field, reason: BOTH_ENCRYPTIONS });
		return payload;
	}

	const storedInterface = choosesInterface ? meta['interface'] : await interfaceOf(context.database, collection, field);
	// The interface is the Studio's switch; a special sent alone (API, schema apply) keeps a field whose interface is ours protected.
	const wanted = choosesInterface ? meta['interface'] === SECRET_INTERFACE || (setsSpecial && special.includes(PROTECTED_MARK)) : special.includes(PROTECTED_MARK) || storedInterface === SECRET_INTERFACE;

	if (wanted) {
		if (hasEncryptSpecial(special)) throw new FieldNotProtectableError({ collection, field, reason: BOTH_ENCRYPTIONS });
		if (!wasMarked) {
			const type = newType ?? current?.type;
			const reason = cannotProtect(context.schema, collection, type);
			if (reason) throw new FieldNotProtectableError({ collection, field, reason });
		}
		meta['special'] = withMark(special);
		// A search that reached it would be an oracle (the query guard refuses those): searches go to the other fields.
		meta['searchable'] = false;
		return payload;
	}
	if (!wasMarked) return payload;
	const sealed = await sealedValues(context.database, context.schema, collection, field);
	if (sealed > 0) throw new ProtectedFieldInUseError({ collection, field, sealed });
	meta['special'] = withoutMark(special);
	return payload;
}

async function interfaceOf(database: Knex, collection: string, field: string): Promise<unknown> {
	const row = await database('directus_fields').select('interface').where({ collection, field }).first();
	return row?.interface ?? null;
}

/** Values sealed under any key, in a legacy format or by Directus's encrypt special: what un-protecting would strand. */
async function sealedValues(database: Knex, schema: SchemaOverview, collection: string, field: string): Promise<number> {
	const [target] = resolveTargets(schema, [{ collection, field }]);
	if (!target) return 0;
	return sealedCount(await censusOf(database, target));
}
