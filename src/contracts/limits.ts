/**
 * What the routes accept and what the columns must hold, in one place: the body parser and the
 * contracts take their limits from here, and the storage check (src/schema/storage.ts) sizes the columns
 * from them.
 */

/** A /credentials/* request body, at most. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A vault key, at most (characters). */
export const MAX_VAULT_KEY_CHARS = 64 * 1024;

/**
 * The longest envelope a body can produce: the JSON is at most the body, sealing adds a nonce, a
 * tag and a prefix, and base64 makes 4 characters of 3 bytes. Every protected column must hold it.
 */
export const MAX_ENVELOPE_CHARS = Math.ceil((MAX_BODY_BYTES + 256) / 3) * 4 + 256;

/**
 * MySQL/MariaDB text types by what they hold (bytes). Directus creates `text` as TEXT (64 KB,
 * which a 49 KB value already overflows once sealed); protected columns take the smallest that
 * holds MAX_ENVELOPE_CHARS, whose characters are all ASCII (one byte each).
 */
export const MYSQL_TEXT_TYPES = [
	{ type: 'text', bytes: 65_535 },
	{ type: 'mediumtext', bytes: 16_777_215 },
	{ type: 'longtext', bytes: 4_294_967_295 },
] as const;

export const MYSQL_PROTECTED_TEXT_TYPE = MYSQL_TEXT_TYPES.find((t) => t.bytes >= MAX_ENVELOPE_CHARS)!.type;
