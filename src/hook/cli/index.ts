import { writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Runtime } from '../../config/index.js';
import type { Keyring } from '../../crypto/index.js';
import { failureLog, MAX_LISTED } from '../../lifecycle/failures.js';
import { inspectTargets, type Progress } from '../../lifecycle/inventory.js';
import { heapKeeper } from './heap.js';
import { keyHealth } from '../../lifecycle/key-health.js';
import { rewriteTargets, type RewriteMode } from '../../lifecycle/rewrite.js';
import { BATCH_BYTES, resolveTargets, type Target } from '../../lifecycle/scan.js';
import { encryptSpecialFields, handOver } from '../../schema/encrypt-special.js';
import { releaseField } from '../../schema/field-release.js';
import { recordCommand } from '../../services/audit.js';
import type { FieldRef } from '../../schema/protected-fields.js';
import { recordVerifications, type Verification } from '../../lifecycle/verifications.js';
import { safeMessage } from '../../lib/error-message.js';
import { installSchema, type InstallDeps } from '../../schema/install.js';
import { progressBar } from './progress.js';

export interface CliDeps extends InstallDeps {
	runtime: Runtime;
}

interface Output {
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
async function run(deps: CliDeps, json: boolean | undefined, body: () => Promise<Output>) {
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

async function ringOf(deps: CliDeps): Promise<Keyring> {
	const keys = await deps.runtime.keys();
	if (!keys.ok) throw new Error(keys.error);
	return keys.ring;
}

async function targetsOf(deps: CliDeps, collection?: string) {
	const schema = await deps.getSchema({ database: deps.database });
	const targets = resolveTargets(schema, deps.runtime.fields.sync(schema).all(), collection);
	if (collection && targets.length === 0) throw new Error(`${collection} has no protected fields`);
	return targets;
}

/** Progress shown, and the heap kept near what a batch holds (see heap.ts). */
const afterEachBatch = (show: Progress): Progress => {
	const keep = heapKeeper();
	return (done, total) => {
		keep();
		show(done, total);
	};
};

const wholeNumber = (option: string, value: string | undefined, fallback: number, max: number) => {
	const n = value === undefined ? fallback : Number(value);
	if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${option} must be a whole number from 1 to ${max}`);
	return n;
};

export function registerCli(program: Command, deps: CliDeps) {
	const credentials = program.command('credentials').description('Encrypted credentials: schema, keys and migrations');

	credentials
		.command('setup')
		.description('Create the collections, the Credentials Owner policy and the Credentials User role (idempotent)')
		.option('--json', 'print one JSON summary line')
		.action((opts: { json?: boolean }) =>
			run(deps, opts.json, async () => {
				const report = await installSchema(deps, deps.runtime.config.extraFields);
				const warnings = [...deps.runtime.config.warnings, ...report.warnings];
				const keys = await deps.runtime.keys();
				if (!keys.ok) warnings.push(`${keys.error}: protected fields cannot be written until it is fixed`);
				const lines = [
					...report.changes.map((c) => `✓ ${c}`),
					...(report.changes.length === 0 ? ['✓ already set up: no changes'] : []),
					...warnings.map((w) => `! ${w}`),
				];
				return { exitCode: 0, summary: { ok: true, changes: report.changes, warnings }, lines };
			}),
		);

	credentials
		.command('status')
		.description('Per protected field: rows, rows per key id, legacy and plaintext counts (no decryption), and what the last verify found')
		.option('--json', 'print one JSON summary line')
		.option('--collection <collection>', 'only this collection')
		.action((opts: { json?: boolean; collection?: string }) =>
			run(deps, opts.json, async () => {
				const ring = await ringOf(deps);
				const bar = progressBar('status');
				const { keys, fields, missingKeyIds } = await keyHealth(deps.database, ring, await targetsOf(deps, opts.collection), bar.update);
				bar.done();
				const lines = [`current key ${keys.current}${keys.previous.length ? `, previous ${keys.previous.join(', ')}` : ''}`];
				for (const f of fields) {
					const perKey = Object.entries(f.byKeyId).map(([id, n]) => `${id}${id === keys.current ? ' (current)' : ring.byId(id) ? ' (previous)' : ' (NOT CONFIGURED)'}: ${n}`);
					const verified =
						f.verifiedAt === null
							? 'not verified yet (run `credentials verify`)'
							: `undecryptable ${f.undecryptable} at the last verify (${f.verifiedAt})${f.earlierBinding ? `; ${f.earlierBinding} bound to an earlier spelling of their key (rotate re-seals them)` : ''}`;
					const directus = f.directusEncrypt ? `; Directus's encrypt special ${f.directusEncrypt} (run \`credentials adopt-encrypt-special\`)` : '';
					lines.push(`${f.field}: ${f.rows} rows, ${f.empty} empty; ${perKey.join(', ') || 'no cred:v2 values'}; legacy ${f.legacy}${directus}; plaintext ${f.plaintext}; ${verified}`);
				}
				if (missingKeyIds.length) lines.push(`! rows under key ids no configured key has: ${missingKeyIds.join(', ')} (they fail closed)`);
				return { exitCode: 0, summary: { ok: true, keys, fields, missingKeyIds }, lines };
			}),
		);

	credentials
		.command('verify')
		.description('Decrypt every protected value with the configured keys and list the rows that fail; records the counts for status, changes no value')
		.option('--json', 'print one JSON summary line')
		.option('--collection <collection>', 'only this collection')
		.option('--failures-file <file>', 'write every failing row to this file, one JSON line each (the output lists the first 1,000)')
		.action((opts: { json?: boolean; collection?: string; failuresFile?: string }) =>
			run(deps, opts.json, async () => {
				const ring = await ringOf(deps);
				const targets = await targetsOf(deps, opts.collection);
				const bar = progressBar('verify');
				const failures = failureLog(opts.failuresFile);
				const fields = await inspectTargets(deps.database, ring, targets, failures, { onProgress: afterEachBatch(bar.update), directusSecret: deps.runtime.config.directusSecret }).finally(() => failures.close());
				bar.done();
				const verifiedAt = new Date().toISOString();
				const recorded = await recordVerifications(
					deps.database,
					new Map<string, Verification>(fields.map((f) => [f.field, { verifiedAt, checked: f.rows - f.empty, undecryptable: f.undecryptable, earlierBinding: f.earlierBinding }])),
				);
				const checked = fields.reduce((n, f) => n + f.rows - f.empty, 0);
				const earlierBinding = fields.reduce((n, f) => n + f.earlierBinding, 0);
				const lines = [
					failures.count === 0 ? `✓ ${checked} values decrypt with the configured keys` : `✗ ${failures.count} of ${checked} values fail${failures.count > MAX_LISTED ? ` (the first ${MAX_LISTED} listed)` : ''}:`,
					...(recorded ? [] : ['! not recorded for status: run `credentials setup` once to add the collection it is kept in']),
					...failures.listed.map((f) => `  ${f.collection}.${f.field} ${f.id}: ${f.reason}`),
					...(earlierBinding ? [`  ${earlierBinding} bound to an earlier spelling of their row's key: they open; rotate re-seals them`] : []),
				];
				return {
					exitCode: failures.count === 0 ? 0 : 1,
					summary: { ok: failures.count === 0, checked, failed: failures.count, earlierBinding, failures: failures.listed },
					lines,
				};
			}),
		);

	const rewrite = (
		name: RewriteMode,
		description: string,
		{ before, batchSize = 500, options = [] }: { before?: (opts: RewriteOptions) => Promise<Prelude>; batchSize?: number; options?: [flags: string, description: string][] } = {},
	) =>
		options
			.reduce((command, [flags, text]) => command.option(flags, text), credentials.command(name).description(description))
			.option('--json', 'print one JSON summary line')
			.option('--dry-run', 'count what would change, change nothing')
			.option('--batch-size <n>', 'rows per transaction', String(batchSize))
			.option('--batch-bytes <n>', 'bytes of stored values per batch (a larger value goes alone)', String(BATCH_BYTES))
			.option('--collection <collection>', 'only this collection')
			.option('--failures-file <file>', 'write every undecryptable row to this file, one JSON line each (the output lists the first 1,000)')
			.action((opts: RewriteOptions) =>
				run(deps, opts.json, async () => {
					const ring = await ringOf(deps);
					const rows = wholeNumber('--batch-size', opts.batchSize, batchSize, 100_000);
					const batchBytes = wholeNumber('--batch-bytes', opts.batchBytes, BATCH_BYTES, 1024 ** 3);
					const prelude: Prelude = before ? await before(opts) : { lines: [], summary: {}, refused: 0 };
					const bar = progressBar(name);
					const started = Date.now();
					const targets = prelude.targets ?? (await targetsOf(deps, opts.collection));
					const failures = failureLog(opts.failuresFile);
					const reports = await rewriteTargets(deps.database, ring, targets, failures, {
						mode: name,
						dryRun: opts.dryRun,
						batchSize: rows,
						batchBytes,
						onProgress: afterEachBatch(bar.update),
						directusSecret: deps.runtime.config.directusSecret,
					}).finally(() => failures.close());
					bar.done();
					const rewritten = reports.reduce((n, r) => n + r.rewritten, 0);
					const verb = opts.dryRun ? 'would rewrite' : 'rewrote';
					const lines = [
						...prelude.lines,
						...reports.map((r) => `${r.field}: ${verb} ${r.rewritten} of ${r.scanned}${r.changedConcurrently ? `, ${r.changedConcurrently} changed meanwhile (left as written)` : ''}${r.failed ? `, ${r.failed} undecryptable (left untouched)` : ''}`),
						...failures.listed.map((f) => `  ✗ ${f.collection}.${f.field} ${f.id}: ${f.reason}`),
					];
					const ok = failures.count === 0 && prelude.refused === 0;
					return {
						exitCode: ok ? 0 : 1,
						summary: {
							ok,
							command: name,
							dryRun: !!opts.dryRun,
							currentKey: ring.current.id,
							...prelude.summary,
							rewritten,
							durationMs: Date.now() - started,
							failed: failures.count,
							fields: reports,
							failures: failures.listed,
						},
						lines,
					};
				}),
			);

	rewrite('rotate', 'Re-encrypt every value not under the current key (previous keys, legacy formats, earlier key bindings), batch by batch, resumable');
	rewrite('encrypt-existing', 'Encrypt plaintext values in protected fields (fields added to CREDENTIALS_ENCRYPTED_FIELDS after rows existed)');
	rewrite(
		'adopt-encrypt-special',
		"Move fields off Directus's encrypt special: take the special off and protect each field, then re-seal its values (opened with SECRET) under the current key, batch by batch, resumable",
		// Each value costs one scrypt derivation (~50 ms of a core): smaller batches keep progress and transactions short.
		{ before: (opts) => handOverEncryptSpecial(deps, opts), batchSize: 100 },
	);
	rewrite(
		'decrypt-field',
		'Un-protect a field protected from the data model and store its values in plaintext (the one exception to "plaintext is never stored"; audited)',
		{
			before: (opts) => releaseForDecrypt(deps, opts),
			options: [
				['--field <collection.field>', 'the field to decrypt in place'],
				['--confirm <collection.field>', 'the same field again: nothing is decrypted without it'],
			],
		},
	);
}

interface RewriteOptions {
	field?: string;
	confirm?: string;
	json?: boolean;
	dryRun?: boolean;
	batchSize?: string;
	batchBytes?: string;
	collection?: string;
	failuresFile?: string;
}

/** What a command does before its rewrite: lines and summary members to report, fields it could not take, the fields to rewrite. */
interface Prelude {
	lines: string[];
	summary: Record<string, unknown>;
	refused: number;
	targets?: Target[];
}

/**
 * adopt-encrypt-special's first step: each field with Directus's special is handed over (the special
 * off, protected), or, with --dry-run, only listed. The rewrite then walks every protected field for
 * values the special wrote: those of fields handed over by an earlier, interrupted run too.
 */
async function handOverEncryptSpecial(deps: CliDeps, opts: RewriteOptions): Promise<Prelude> {
	if (!deps.runtime.config.directusSecret) throw new Error("SECRET is not set: values of Directus's encrypt special open only with the SECRET that wrote them");
	const found = encryptSpecialFields(await deps.getSchema({ database: deps.database, bypassCache: true }), opts.collection);
	const refused = found.filter((f) => f.refused !== null);
	const taken = found.filter((f) => f.refused === null);
	if (!opts.dryRun) for (const field of taken) await handOver(deps, field);
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	const protectedNow = deps.runtime.fields.sync(schema).all();
	const targets = resolveTargets(schema, opts.dryRun ? [...protectedNow, ...taken.filter((f) => !protectedNow.some((p) => p.collection === f.collection && p.field === f.field))] : protectedNow, opts.collection);
	const name = (f: FieldRef) => `${f.collection}.${f.field}`;
	const verb = opts.dryRun ? 'would take' : 'took';
	// Directus keeps the schema in memory; only instances on the same Redis hear of a change made by another process.
	const notice =
		taken.length && !opts.dryRun
			? "Directus instances that share Redis with this command protect these fields now; one without Redis does after a restart, or at once after Settings → Clear System Cache (POST /utils/cache/clear?system). Values it writes until then are in the special's format: run this command again afterwards."
			: null;
	return {
		lines: [
			...(found.length === 0 ? [`no field${opts.collection ? ` of ${opts.collection}` : ''} uses Directus's encrypt special`] : []),
			...taken.map((f) => `${name(f)}: ${verb} Directus's encrypt special off and protected it${f.type === 'string' ? ' (string widened to text)' : ''}`),
			...refused.map((f) => `✗ ${name(f)}: left with Directus's encrypt special: it cannot be protected, because ${f.refused}`),
			...(notice ? [`! ${notice}`] : []),
		],
		summary: { handedOver: taken.map(name), refused: refused.map((f) => ({ field: name(f), reason: f.refused })), ...(notice ? { notice } : {}) },
		refused: refused.length,
		targets,
	};
}

/**
 * decrypt-field's first step. The field must be one an admin protected from the data model (built-in
 * fields and CREDENTIALS_ENCRYPTED_FIELDS stay protected whatever happens here), named twice. The
 * audit entry is written before anything changes; then the mark comes off (releaseField), so every
 * instance stops sealing the field, and the rewrite stores each sealed value as plaintext. Killed
 * midway, the field is no longer protected and the next run finishes the values left.
 */
async function releaseForDecrypt(deps: CliDeps, opts: RewriteOptions): Promise<Prelude> {
	const [collection, field, ...rest] = (opts.field ?? '').split('.');
	if (!collection || !field || rest.length) throw new Error('--field collection.field is required');
	if (opts.confirm !== opts.field) throw new Error(`--confirm ${opts.field} is required: values of ${opts.field} will be stored in plaintext`);
	if (opts.collection && opts.collection !== collection) throw new Error('--collection names another collection than --field');
	const ref = { collection, field };
	if (deps.runtime.fields.configuredHas(collection, field)) {
		throw new Error(`${opts.field} is protected by the extension itself or by CREDENTIALS_ENCRYPTED_FIELDS, not from the data model: remove it from that variable first (built-in fields stay protected)`);
	}
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	const [target] = resolveTargets(schema, [ref]);
	if (!target) throw new Error(`${opts.field} does not exist`);
	if (opts.dryRun) return { lines: [], summary: { field: opts.field }, refused: 0, targets: [target] };
	await recordCommand(deps.database, { action: 'decrypt-field', collection, item: field, origin: `credentials decrypt-field (CLI) by ${operator()}` });
	const released = await releaseField(deps, ref);
	// This process's own database guard follows the schema without the mark.
	deps.runtime.fields.sync(await deps.getSchema({ database: deps.database, bypassCache: true }));
	return {
		lines: [
			released ? `${opts.field}: no longer protected (recorded in directus_activity)` : `${opts.field}: not protected; decrypting the values left sealed (recorded in directus_activity)`,
			'! Directus instances that share Redis with this command stop sealing it now; one without Redis does after a restart, or after Settings → Clear System Cache: run this command again afterwards.',
		],
		summary: { field: opts.field, released },
		refused: 0,
		targets: [target],
	};
}

/** Who ran a command, as the operating system knows it (the CLI has no Directus user). */
function operator(): string {
	try {
		return `${userInfo().username}@${hostname()}`;
	} catch {
		return `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
	}
}
