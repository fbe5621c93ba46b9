import { describe, expect, it } from 'vitest';
import { barHeight, callerFilterOf, callerLabel, callerQuery, pageCount } from '../../src/app/shared/audit-text.js';

describe('the reveals panel’s words', () => {
	it('names callers by identity, as the shared secret, or as a user', () => {
		expect(callerLabel({ caller: 'identity', identity: 'id-1', identity_name: 'scraper' })).toBe('scraper');
		expect(callerLabel({ caller: 'identity', identity: 'id-1', identity_name: null })).toBe('identity id-1');
		expect(callerLabel({ caller: 'shared-secret', identity: null, identity_name: null })).toBe('shared secret');
		expect(callerLabel({ caller: 'user', identity: null, identity_name: null, user: '0123456789abcdef' })).toBe('user 01234567');
	});

	it('turns a caller filter into the query it stands for, and back', () => {
		const identity = { caller: 'identity' as const, identity: 'id-1', identity_name: 'scraper' };
		expect(callerQuery(callerFilterOf(identity))).toEqual({ identity: 'id-1' });
		expect(callerQuery(callerFilterOf({ caller: 'shared-secret', identity: null, identity_name: null }))).toEqual({ caller: 'shared-secret' });
		expect(callerQuery('')).toEqual({});
	});

	it('draws a day with entries visibly, never more than the busiest, and counts pages', () => {
		expect(barHeight(0, 10)).toBe(0);
		expect(barHeight(1, 1000)).toBe(4);
		expect(barHeight(10, 10)).toBe(100);
		expect(barHeight(5, 0)).toBe(0);
		expect([pageCount(0, 10), pageCount(10, 10), pageCount(11, 10)]).toEqual([1, 1, 2]);
	});
});
