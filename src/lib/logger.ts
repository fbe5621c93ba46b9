/**
 * The part of Directus's logger (pino) the extension writes to: messages only, never objects, so that a
 * value cannot slip into a log line through a field. Modules take the levels they use (`Pick<Logger, …>`).
 */
export interface Logger {
	error(message: string): void;
	warn(message: string): void;
	info(message: string): void;
}
