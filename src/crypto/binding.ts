/**
 * The one form of a primary key that a value is bound to. Databases disagree on UUID case:
 * PostgreSQL's uuid type stores lower case whatever was sent, MariaDB's char(36) keeps the case
 * as typed and compares without it, SQLite keeps it and compares with it. A binding taken from
 * whatever spelling happened to be at hand made rows unreadable; the canonical form makes every
 * spelling of the same key bind alike.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
	return typeof value === 'string' && UUID.test(value);
}

/** A UUID in any case becomes its lower-case form; anything else is `String(pk)`. */
export function boundKey(pk: string | number): string {
	const text = String(pk);
	return UUID.test(text) ? text.toLowerCase() : text;
}

/**
 * The spellings a value sealed before canonical binding may carry, canonical form excluded:
 * the upper-case UUID (what most clients that do not send lower case send) and the key exactly
 * as given (a mixed-case key kept by MariaDB or SQLite). Empty for anything but a UUID.
 */
export function earlierBindings(pk: string | number): string[] {
	const text = String(pk);
	if (!UUID.test(text)) return [];
	const canonical = text.toLowerCase();
	return [...new Set([text.toUpperCase(), text])].filter((spelling) => spelling !== canonical);
}

/** Every spelling of a UUID a case-sensitive database may hold it under: as given, lower, upper. */
export function keySpellings(pk: string): string[] {
	return UUID.test(pk) ? [...new Set([pk, pk.toLowerCase(), pk.toUpperCase()])] : [pk];
}
