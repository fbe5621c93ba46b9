/** A date and time written without a zone (MariaDB's DATETIME, SQLite's text): Directus writes UTC. */
const ZONELESS = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?$/;

/**
 * Dates as the database hands them back (a Date, an ISO string, zoneless text, SQLite's milliseconds
 * as a number or as digits), read one way everywhere: null for nothing or for what is no date.
 */
export function readDate(value: unknown): Date | null {
	if (value === null || value === undefined || value === '') return null;
	const text = typeof value === 'string' ? value.trim() : null;
	const date =
		text === null ? new Date(value as number | Date) : /^\d+$/.test(text) ? new Date(Number(text)) : new Date(ZONELESS.test(text) ? `${text.replace(' ', 'T')}Z` : text);
	return Number.isNaN(date.getTime()) ? null : date;
}

/** Milliseconds since the epoch, or null. */
export const msOrNull = (value: unknown): number | null => readDate(value)?.getTime() ?? null;

/** ISO 8601 with `Z`, or null. */
export const isoOrNull = (value: unknown): string | null => readDate(value)?.toISOString() ?? null;

/** Unix time in seconds, or null. */
export const unixSecondsOrNull = (value: unknown): number | null => {
	const date = readDate(value);
	return date ? Math.floor(date.getTime() / 1000) : null;
};
