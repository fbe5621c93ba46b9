import { openDirectusEncrypted } from '../../crypto/index.js';
import { directusEncryptedOnly, resolveTargets } from '../../lifecycle/scan.js';
import { encryptSpecialFields, handOver } from '../../schema/encrypt-special.js';
import type { FieldRef } from '../../schema/protected-fields.js';
import { schemaChangeNotice, type CliDeps, type Prelude, type RewriteOptions } from './types.js';

/**
 * adopt-encrypt-special's first step: each field with Directus's special is handed over (the special
 * off, protected), or, with --dry-run, only listed. The rewrite then walks every protected field for
 * values the special wrote: those of fields handed over by an earlier, interrupted run too.
 */
export async function handOverEncryptSpecial(deps: CliDeps, opts: RewriteOptions): Promise<Prelude> {
	if (!deps.runtime.config.directusSecret) throw new Error("SECRET is not set: values of Directus's encrypt special open only with the SECRET that wrote them");
	const found = encryptSpecialFields(await deps.getSchema({ database: deps.database, bypassCache: true }), opts.collection);
	// A field whose values do not open with this SECRET keeps its special: handed over, nobody could read them.
	for (const field of found) if (field.refused === null && !(await opensWithSecret(deps, field))) field.refused = 'its values do not open with this SECRET (is it the SECRET that wrote them?)';
	const refused = found.filter((f) => f.refused !== null);
	const taken = found.filter((f) => f.refused === null);
	if (!opts.dryRun) for (const field of taken) await handOver(deps, field);
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	const protectedNow = deps.runtime.fields.sync(schema).all();
	const targets = resolveTargets(schema, opts.dryRun ? [...protectedNow, ...taken.filter((f) => !protectedNow.some((p) => p.collection === f.collection && p.field === f.field))] : protectedNow, opts.collection);
	const name = (f: FieldRef) => `${f.collection}.${f.field}`;
	const verb = opts.dryRun ? 'would take' : 'took';
	// Until an instance sees the hand-over, values it writes are in the special's format.
	const notice = taken.length && !opts.dryRun ? schemaChangeNotice('protect these fields', "values it writes until then are in the special's format") : null;
	return {
		lines: [
			...(found.length === 0 ? [`no field${opts.collection ? ` of ${opts.collection}` : ''} uses Directus's encrypt special`] : []),
			...taken.map((f) => `${name(f)}: ${verb} Directus's encrypt special off and protected it${f.type === 'string' ? ' (string widened to text)' : ''}`),
			...refused.map((f) => `✗ ${name(f)}: left with Directus's encrypt special: it cannot be protected, because ${f.refused}`),
			...(notice ? [`! ${notice}`] : []),
		],
		summary: { handedOver: taken.map(name), refused: refused.map((f) => ({ field: name(f), reason: f.refused })), ...(notice ? { notice } : {}) },
		refused: refused.length,
		targets,
	};
}

/** Whether one of the first values the special wrote in a field opens with SECRET (true when it holds none). */
async function opensWithSecret(deps: CliDeps, field: FieldRef): Promise<boolean> {
	const rows = (await deps.database(field.collection).select({ v: field.field }).where(directusEncryptedOnly(deps.database, field.field)).limit(5)) as { v: string }[];
	if (rows.length === 0) return true;
	for (const { v } of rows) if (await openDirectusEncrypted(String(v), deps.runtime.config.directusSecret!).then(() => true, () => false)) return true;
	return false;
}
