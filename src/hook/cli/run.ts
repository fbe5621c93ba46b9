import { writeSync } from 'node:fs';
import { safeMessage } from '../../lib/error-message.js';
import type { CliDeps } from './types.js';

export interface Output {
	exitCode: number;
	/** The one JSON line printed with --json. */
	summary: Record<string, unknown>;
	/** What a person reads without --json. */
	lines: string[];
}

/** Resolves once the text is handed to the OS: process.exit() would cut a piped stdout short. */
const print = (stream: NodeJS.WriteStream, text: string) => new Promise<void>((resolve) => (text ? stream.write(text, () => resolve()) : resolve()));

/**
 * Where the --json line goes. Directus logs to stdout ("Extensions loaded", MySQL's collation
 * warning…), some of it before this code runs; `npm run cli` sends Directus's stdout to stderr and
 * hands this line a descriptor of its own (CREDENTIALS_CLI_OUTPUT_FD), so stdout holds the line alone.
 */
async function printSummary(line: string) {
	const fd = Number(process.env['CREDENTIALS_CLI_OUTPUT_FD']);
	if (Number.isInteger(fd) && fd > 2) writeSync(fd, line);
	else await print(process.stdout, line);
}

/** Runs a command body, prints its result, and ends the process (the CLI's DB pool would keep it alive). */
export async function run(deps: CliDeps, json: boolean | undefined, body: () => Promise<Output>) {
	let exitCode = 1;
	try {
		const output = await body();
		exitCode = output.exitCode;
		if (json) await printSummary(JSON.stringify(output.summary) + '\n');
		else await print(process.stdout, output.lines.join('\n') + '\n');
	} catch (error) {
		const message = safeMessage(error);
		if (json) await printSummary(JSON.stringify({ ok: false, error: message }) + '\n');
		await print(process.stderr, `credentials: ${message}\n`);
	}
	await deps.database.destroy().catch(() => undefined);
	process.exit(exitCode);
}

