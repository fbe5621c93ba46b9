import { describe, expect, it } from 'vitest';
import { readForOwnUse } from '../../src/hook/handlers/draft-scope.js';
import { guardSilentReads, type Mask } from '../../src/hook/handlers/guard-silent-reads.js';

/**
 * A `?version=` read applies a draft: Directus 12 in readByQuery, Directus 11 in readOne and readSingleton
 * (without calling readByQuery for the draft). Either way the drafts are read unmasked inside the read
 * (they are applied, not shown) and the answer is masked.
 */
class StandInItemsService {
	collection = 'platform_connections';
	schema = {} as never;
	accountability: { user: string; admin: boolean } | null = { user: 'u', admin: false };
	/** Whether the draft was readable unmasked while the read ran. */
	sawDraftUnmasked = false;
	async readByQuery() {
		return [{ id: 1, encrypted_credentials: 'cred:v2:stored' }];
	}
	/** Directus 11: the draft applied here, not through readByQuery. */
	async readOne(_key: unknown, query?: { version?: string }) {
		if (query?.version) this.sawDraftUnmasked = readForOwnUse('directus_versions', [{ id: 'v1' }]);
		return { id: 1, encrypted_credentials: 'cred:v2:drafted' };
	}
	async readSingleton(query?: { version?: string }) {
		if (query?.version) this.sawDraftUnmasked = readForOwnUse('directus_versions', [{ id: 'v1' }]);
		return { id: 1, encrypted_credentials: 'cred:v2:drafted' };
	}
}
const mask: Mask = (_collection, rows) => {
	const hide = (row: Record<string, unknown>) => ({ ...row, encrypted_credentials: '**********' });
	return Array.isArray(rows) ? rows.map(hide) : hide(rows as Record<string, unknown>);
};
guardSilentReads(StandInItemsService, (query) => query, mask);

describe('guardSilentReads on ?version= reads', () => {
	it('readOne and readSingleton (Directus 11) read drafts in own use and answer masked', async () => {
		for (const read of [(s: StandInItemsService) => s.readOne(1, { version: 'draft' }), (s: StandInItemsService) => s.readSingleton({ version: 'draft' })]) {
			const service = new StandInItemsService();
			expect(await read(service)).toEqual({ id: 1, encrypted_credentials: '**********' });
			expect(service.sawDraftUnmasked).toBe(true);
		}
	});

	it('leaves published reads and internal reads alone, and drafts masked outside a versioned read', async () => {
		const service = new StandInItemsService();
		expect(await service.readOne(1, { version: 'main' })).toEqual({ id: 1, encrypted_credentials: 'cred:v2:drafted' });
		expect(await service.readOne(1)).toEqual({ id: 1, encrypted_credentials: 'cred:v2:drafted' });
		const internal = new StandInItemsService();
		internal.accountability = null;
		expect(await internal.readOne(1, { version: 'draft' })).toEqual({ id: 1, encrypted_credentials: 'cred:v2:drafted' });
		expect(internal.sawDraftUnmasked).toBe(false);
	});
});
