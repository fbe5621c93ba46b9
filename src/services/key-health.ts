import { keyHealth } from '../lifecycle/key-health.js';
import { resolveTargets } from '../lifecycle/scan.js';
import { ring, type ServiceDeps } from './deps.js';

/** The `status` figures for the admin route (a full read of every protected column). */
export async function keyHealthReport(deps: ServiceDeps) {
	const targets = resolveTargets(deps.schema, deps.fields.all());
	return { success: true as const, ...(await keyHealth(deps.database, ring(deps), targets)) };
}
