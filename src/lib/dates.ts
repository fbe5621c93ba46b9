/**
 * Dates as the database hands them back (a Date, an ISO string, a SQLite text or number), read
 * one way everywhere: null for nothing or for what is no date.
 */
export function readDate(value: unknown): Date | null {
	if (value === null || value === undefined || value === '') return null;
	const date = new Date(value as string);
	return Number.isNaN(date.getTime()) ? null : date;
}

/** ISO 8601 with `Z`, or null. */
export const isoOrNull = (value: unknown): string | null => readDate(value)?.toISOString() ?? null;

/** Unix time in seconds, or null. */
export const unixSecondsOrNull = (value: unknown): number | null => {
	const date = readDate(value);
	return date ? Math.floor(date.getTime() / 1000) : null;
};
