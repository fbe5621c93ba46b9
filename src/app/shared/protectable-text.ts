import { whyNotProtectable } from '../../schema/protectable.js';

/** GET /fields/:collection as the notice reads it. */
export type FieldsAnswer = { field: string; type: string; schema?: { is_primary_key?: boolean; has_auto_increment?: boolean; default_value?: unknown } | null }[];

/** What the data model's notice says for a field about to get the "Encrypted secret" interface. */
export function protectableText(collection: string, fieldType: string | undefined, fields: FieldsAnswer | null): { text: string; refused: boolean } {
	const pk = fields?.find((f) => f.schema?.is_primary_key);
	const generatedBy = pk?.schema?.has_auto_increment ? 'AUTO_INCREMENT' : pk?.schema?.default_value === null || pk?.schema?.default_value === undefined ? null : String(pk.schema.default_value);
	const primaryKey = fields ? { name: pk?.field ?? 'id', type: pk?.type ?? 'unknown', generatedBy } : null;
	const reason = whyNotProtectable({ collection, primaryKey, fieldType });
	if (reason) return { refused: true, text: `This field cannot be protected: ${reason}. Saving with this interface will be refused.` };
	return { refused: false, text: 'Saving protects this field: every value is encrypted for its row on every write, and reads show it masked. Values it already holds are encrypted from the Key health panel (Encrypt) or with `credentials encrypt-existing`.' };
}
