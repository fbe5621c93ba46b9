import { describe, expect, it } from 'vitest';
import { isoOrNull, unixSecondsOrNull } from '../../src/lib/dates.js';

describe('dates as databases hand them back', () => {
	it('read Dates, ISO strings and SQLite numbers alike; nothing and non-dates are null', () => {
		const at = new Date('2099-01-02T03:04:05.000Z');
		// Zoneless text is UTC, as Directus writes it (MariaDB DATETIME, SQLite text), whatever the process's zone.
		for (const value of [at, at.toISOString(), at.getTime(), String(at.getTime()), '2099-01-02 03:04:05', '2099-01-02T03:04:05']) {
			expect(isoOrNull(value)).toBe('2099-01-02T03:04:05.000Z');
			expect(unixSecondsOrNull(value)).toBe(Math.floor(at.getTime() / 1000));
		}
		for (const value of [null, undefined, '', 'not a date']) {
			expect(isoOrNull(value)).toBeNull();
			expect(unixSecondsOrNull(value)).toBeNull();
		}
	});
});
