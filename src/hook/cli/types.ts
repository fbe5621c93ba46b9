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

