/**
 * An error's message, never a stack or a payload. A database error's message starts with the
 * statement (knex inlines bindings, which can be stored values): only the database's own words are kept.
 */
export function safeMessage(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	return /^\s*(select|update|insert|delete|with)\b/i.test(message) ? `database error: ${message.slice(message.lastIndexOf(' - ') + 3)}` : message;
}
