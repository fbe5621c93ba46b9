import type { EncryptExistingInput } from '../contracts/studio.js';
import { InvalidInputError } from '../errors.js';
import { censusOf } from '../lifecycle/census.js';
import { failureLog } from '../lifecycle/failures.js';
import { rewriteTargets } from '../lifecycle/rewrite.js';
import { resolveTargets } from '../lifecycle/scan.js';
import { keyHealthReport } from './key-health.js';
import { ring, type ServiceDeps } from './deps.js';

/**
 * `credentials encrypt-existing` for one protected field, from the Data Studio: the plaintext values a
 * field held when it was protected are sealed for their rows, in compare-and-swap batches (a value
 * written meanwhile is left as written: the hook sealed it). Nothing is decrypted, so nothing is revealed.
 */
export async function encryptExistingField(deps: ServiceDeps, { collection, field }: EncryptExistingInput) {
	const [target] = deps.fields.has(collection, field) ? resolveTargets(deps.schema, [{ collection, field }]) : [];
	if (!target) throw new InvalidInputError({ reason: `${collection}.${field} is not a protected field` });
	const failures = failureLog();
	const [report] = await rewriteTargets(deps.database, ring(deps), [target], failures, { mode: 'encrypt-existing' });
	failures.close();
	// The panel reloads its figures next: they must not come from before this run.
	keyHealthReport.forget();
	return {
		success: true as const,
		field: `${collection}.${field}`,
		sealed: report?.rewritten ?? 0,
		changedConcurrently: report?.changedConcurrently ?? 0,
		remaining: (await censusOf(deps.database, target)).plaintext,
	};
}
