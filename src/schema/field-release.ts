import type { InstallDeps } from './install.js';
import { SECRET_INTERFACE } from './collections.js';
import { PROTECTED_MARK, specialList, withoutMark } from './field-registry.js';
import type { FieldRef } from './protected-fields.js';

/**
 * decrypt-field's first step: the mark comes off (and the "Encrypted secret" interface, which would
 * put it back on the next edit), so that no instance seals the field any more. Without field events:
 * the field hooks refuse exactly this while the field holds sealed values, and this command is the
 * one way past that refusal. Returns whether the field was protected from the data model until now.
 */
export async function releaseField(deps: InstallDeps, ref: FieldRef): Promise<boolean> {
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	const field = schema.collections[ref.collection]?.fields[ref.field];
	if (!field) throw new Error(`${ref.collection}.${ref.field} does not exist`);
	if (!specialList(field.special).includes(PROTECTED_MARK)) return false;
	const row = await deps.database('directus_fields').select('interface').where({ collection: ref.collection, field: ref.field }).first();
	const plainInterface = field.type === 'json' ? 'input-code' : 'input';
	const meta = { special: withoutMark(field.special), ...(row?.interface === SECRET_INTERFACE ? { interface: plainInterface } : {}) };
	const fields = new deps.services['FieldsService']({ knex: deps.database, schema, accountability: null });
	await fields.updateField(ref.collection, { field: ref.field, meta }, { emitEvents: false });
	return true;
}
