import { closeSync, openSync, writeSync } from 'node:fs';

/** A row a command could not handle: where it is and why, never its value. */
export interface Failure {
	collection: string;
	field: string;
	id: string | number;
	reason: string;
}

/** At most this many failing rows are held and listed; the count is always complete. */
export const MAX_LISTED = 1000;

export interface FailureLog {
	add(failure: Failure): void;
	/** Every failure seen. */
	readonly count: number;
	/** The first MAX_LISTED of them. */
	readonly listed: readonly Failure[];
	close(): void;
}

/**
 * Failing rows with memory bounded whatever their number (10 million undecryptable rows must not
 * take gigabytes): the exact count, the first MAX_LISTED, and — when a file is named — every one
 * written to it as a JSON line as it is found. The file is created for the owner only.
 */
export function failureLog(file?: string): FailureLog {
	const fd = file ? openSync(file, 'w', 0o600) : undefined;
	const listed: Failure[] = [];
	let count = 0;
	return {
		add(failure) {
			count++;
			if (listed.length < MAX_LISTED) listed.push(failure);
			if (fd !== undefined) writeSync(fd, `${JSON.stringify(failure)}\n`);
		},
		get count() {
			return count;
		},
		listed,
		close() {
			if (fd !== undefined) closeSync(fd);
		},
	};
}
