import { keyHealth } from '../lifecycle/key-health.js';
import { resolveTargets } from '../lifecycle/scan.js';
import { sharedFor } from '../lib/shared-result.js';
import { ring, type ServiceDeps } from './deps.js';

/** An answer is at most this old: status reflects a write within two seconds. */
const FRESH_MS = 2_000;

/**
 * The `status` figures for the admin route: one grouped read per protected field (no decryption),
 * shared by the admins who ask at the same time.
 */
export const keyHealthReport = sharedFor(FRESH_MS, async (deps: ServiceDeps) => {
	const targets = resolveTargets(deps.schema, deps.fields.all());
	return { success: true as const, ...(await keyHealth(deps.database, ring(deps), targets)), kek: deps.keyView?.() ?? { provider: null, token: null, wrapped: [], problem: null } };
});
