import type { Runtime } from '../../config/index.js';
import type { Target } from '../../lifecycle/scan.js';
import type { InstallDeps } from '../../schema/install.js';

export interface CliDeps extends InstallDeps {
	runtime: Runtime;
}

export interface RewriteOptions {
	field?: string;
	confirm?: string;
	json?: boolean;
	dryRun?: boolean;
	batchSize?: string;
	batchBytes?: string;
	collection?: string;
	failuresFile?: string;
}

/** What a command does before its rewrite: lines and summary members to report, fields it could not take, the fields to rewrite. */
export interface Prelude {
	lines: string[];
	summary: Record<string, unknown>;
	refused: number;
	targets?: Target[];
}

/**
 * Directus keeps the schema in memory: only instances on the same Redis hear at once of a change a CLI
 * process made; the others after a restart or a system-cache clear.
 */
export function schemaChangeNotice(what: string, meanwhile?: string): string {
	return `Directus instances that share Redis with this command ${what} now; one without Redis does after a restart, or at once after Settings → Clear System Cache (POST /utils/cache/clear?system)${meanwhile ? `; ${meanwhile}` : ''}. Run this command again afterwards.`;
}
