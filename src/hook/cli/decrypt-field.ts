import { hostname, userInfo } from 'node:os';
import { censusOf, sealedCount } from '../../lifecycle/census.js';
import { resolveTargets } from '../../lifecycle/scan.js';
import { hasEncryptSpecial } from '../../schema/encrypt-special.js';
import { PROTECTED_MARK, specialList } from '../../schema/field-registry.js';
import { releaseField } from '../../schema/field-release.js';
import { SYSTEM_COLLECTION } from '../../schema/protectable.js';
import { recordCommand } from '../../services/audit.js';
import { schemaChangeNotice, type CliDeps, type Prelude, type RewriteOptions } from './types.js';

/**
 * decrypt-field's first step. The field must be one an admin protected from the data model (built-in
 * fields and CREDENTIALS_ENCRYPTED_FIELDS stay protected whatever happens here), named twice. The
 * audit entry is written before anything changes; then the mark comes off (releaseField), so every
 * instance stops sealing the field, and the rewrite stores each sealed value as plaintext. Killed
 * midway, the field is no longer protected and the next run finishes the values left.
 */
export async function releaseForDecrypt(deps: CliDeps, opts: RewriteOptions): Promise<Prelude> {
	const [collection, field, ...rest] = (opts.field ?? '').split('.');
	if (!collection || !field || rest.length) throw new Error('--field collection.field is required');
	if (opts.confirm !== opts.field) throw new Error(`--confirm ${opts.field} is required: values of ${opts.field} will be stored in plaintext`);
	if (opts.collection && opts.collection !== collection) throw new Error('--collection names another collection than --field');
	const ref = { collection, field };
	if (deps.runtime.fields.configuredHas(collection, field)) {
		throw new Error(`${opts.field} is protected by the extension itself or by CREDENTIALS_ENCRYPTED_FIELDS, not from the data model: remove it from that variable first (built-in fields stay protected)`);
	}
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	const [target] = resolveTargets(schema, [ref]);
	if (!target) throw new Error(`${opts.field} does not exist`);
	if (SYSTEM_COLLECTION.test(collection)) throw new Error(`${opts.field} belongs to Directus's system collections, which this extension never protects`);
	const special = schema.collections[collection]?.fields[field]?.special;
	if (hasEncryptSpecial(special)) throw new Error(`${opts.field} uses Directus's own encrypt special, not this extension's protection`);
	// Not marked: only a run that was cut short is resumed (the field still holds sealed values).
	if (!specialList(special).includes(PROTECTED_MARK)) {
		if (sealedCount(await censusOf(deps.database, target)) === 0) throw new Error(`${opts.field} is not protected from the data model and holds no sealed value: nothing to decrypt`);
	}
	if (opts.dryRun) return { lines: [], summary: { field: opts.field }, refused: 0, targets: [target] };
	await recordCommand(deps.database, { action: 'decrypt-field', collection, item: field, origin: `credentials decrypt-field (CLI) by ${operator()}` });
	const released = await releaseField(deps, ref);
	// This process's own database guard follows the schema without the mark.
	deps.runtime.fields.sync(await deps.getSchema({ database: deps.database, bypassCache: true }));
	return {
		lines: [
			released ? `${opts.field}: no longer protected (recorded in directus_activity)` : `${opts.field}: not protected; decrypting the values left sealed (recorded in directus_activity)`,
			`! ${schemaChangeNotice('stop sealing it')}`,
		],
		summary: { field: opts.field, released },
		refused: 0,
		targets: [target],
	};
}

/** Who ran a command, as the operating system knows it (the CLI has no Directus user). */
function operator(): string {
	try {
		return `${userInfo().username}@${hostname()}`;
	} catch {
		return `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
	}
}
