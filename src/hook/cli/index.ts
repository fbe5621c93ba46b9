import type { Command } from 'commander';
import type { Keyring } from '../../crypto/index.js';
import { failureLog, MAX_LISTED } from '../../lifecycle/failures.js';
import { inspectTargets, type Progress } from '../../lifecycle/inventory.js';
import { heapKeeper } from './heap.js';
import { keyHealth } from '../../lifecycle/key-health.js';
import { rewriteTargets, type RewriteMode } from '../../lifecycle/rewrite.js';
import { BATCH_BYTES, resolveTargets } from '../../lifecycle/scan.js';
import { recordVerifications, type Verification } from '../../lifecycle/verifications.js';
import { safeMessage } from '../../lib/error-message.js';
import { installSchema } from '../../schema/install.js';
import { handOverEncryptSpecial } from './adopt-encrypt-special.js';
import { releaseForDecrypt } from './decrypt-field.js';
import { progressBar } from './progress.js';
import { registerIdentityCommands } from './identities.js';
import { registerKeyCommands } from './keys.js';
import { run } from './run.js';
import { activeIdentityCount } from '../../services/identities.js';
import type { CliDeps, Prelude, RewriteOptions } from './types.js';

export type { CliDeps } from './types.js';

const SHARED_SECRET_ONLY =
	'RBAC_SYNC_WEBHOOK_SECRET is the only way into the server routes: whoever holds it reveals every secret, and the audit names no caller. Give each service its own identity (`credentials identities create`), then unset it';
/** The legacy secret is set and no machine identity is active. */
async function sharedSecretOnly(deps: CliDeps) {
	return Boolean(deps.runtime.config.serverSecret) && (await activeIdentityCount(deps.database)) === 0;
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
	registerIdentityCommands(credentials, deps);
	registerKeyCommands(credentials, deps);

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
				const kek = deps.runtime.hierarchy.view();
				const lines = [`current key ${keys.current}${keys.previous.length ? `, previous ${keys.previous.join(', ')}` : ''}`];
				if (kek.provider || kek.wrapped.length) {
					lines.push(`KEK provider ${kek.provider ?? 'NOT SET'}${kek.token ? ` (token "${kek.token}")` : ''}; wrapped data keys: ${kek.wrapped.map((k) => `${k.keyId} ${k.state} under "${k.kek}"${k.unwrapped ? '' : ' (NOT unwrapped)'}`).join(', ') || 'none yet'}`);
				}
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
				const warnings = (await sharedSecretOnly(deps)) ? [SHARED_SECRET_ONLY] : [];
				lines.push(...warnings.map((w) => `! ${w}`));
				return { exitCode: 0, summary: { ok: true, keys, kek, fields, missingKeyIds, warnings }, lines };
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
			.option('--batch-bytes <n>', `bytes of stored values per batch (a larger value goes alone); default: ${BATCH_BYTES} shared by the batches in memory at once`)
			.option('--collection <collection>', 'only this collection')
			.option('--failures-file <file>', 'write every undecryptable row to this file, one JSON line each (the output lists the first 1,000)')
			.action((opts: RewriteOptions) =>
				run(deps, opts.json, async () => {
					const ring = await ringOf(deps);
					const rows = wholeNumber('--batch-size', opts.batchSize, batchSize, 100_000);
					const batchBytes = opts.batchBytes === undefined ? undefined : wholeNumber('--batch-bytes', opts.batchBytes, BATCH_BYTES, 1024 ** 3);
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
