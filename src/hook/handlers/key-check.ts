import type { SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import type { Runtime } from '../../config/index.js';
import { checkKeys } from '../../lifecycle/canary.js';
import { resolveTargets } from '../../lifecycle/scan.js';
import type { Logger } from '../../lib/logger.js';

/** Runs the key check once the server is up; never throws (a failed check is logged, not fatal). */
export async function checkKeysAtStart(runtime: Runtime, database: Knex, getSchema: (o?: { database?: Knex }) => Promise<SchemaOverview>, logger: Logger) {
	try {
		const keys = await runtime.keys();
		if (!keys.ok) {
			logger.error(`[credentials] ${keys.error}: writes of protected fields are refused and reveals fail closed`);
			return;
		}
		const targets = resolveTargets(await getSchema({ database }), runtime.fields.all());
		const result = await checkKeys(database, keys.ring, targets);
		runtime.missingKeyIds.clear();
		for (const id of result.missingKeyIds) runtime.missingKeyIds.add(id);
		for (const message of result.errors) logger.error(`[credentials] ${message}`);
		for (const message of result.info) logger.info(`[credentials] ${message}`);
	} catch (error) {
		logger.warn(`[credentials] key check skipped: ${error instanceof Error ? error.message : 'unknown error'} (has "directus credentials setup" run?)`);
	}
}
