import type { Command } from 'commander';
import { censusOf } from '../../lifecycle/census.js';
import { resolveTargets } from '../../lifecycle/scan.js';
import { createDataKey, kekForNewKey, promoteWhenRead, rewrapAll } from '../../keys/operations.js';
import { hasWrappedKeys, readWrappedKeys } from '../../keys/store.js';
import type { KekProvider } from '../../keys/kek.js';
import { readerTtlMs } from '../../keys/watch.js';
import type { Pkcs11Kek } from '../../keys/pkcs11-kek.js';
import { isoOrNull } from '../../lib/dates.js';
import { run } from './run.js';
import type { CliDeps } from './types.js';

const DEFAULT_WAIT_SECONDS = 90;

async function providerOf(deps: CliDeps, wanted?: string): Promise<KekProvider> {
	const kind = deps.runtime.config.kek.kind;
	if (wanted && kind !== wanted) throw new Error(`CREDENTIALS_KEK_PROVIDER is ${kind === 'none' ? 'not set' : `"${kind}"`}: set it to "${wanted}" (and its settings) first`);
	const provider = await deps.runtime.kek();
	if (!provider) throw new Error('CREDENTIALS_KEK_PROVIDER is not set: data keys are not wrapped');
	return provider;
}

async function keysTable(deps: CliDeps) {
	if (!(await hasWrappedKeys(deps.database))) throw new Error('wrapped data keys need `credentials setup` to have run once (it adds their columns)');
	return deps.database;
}

const waitMs = (value: string | undefined) => {
	const seconds = value === undefined ? DEFAULT_WAIT_SECONDS : Number(value);
	if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) throw new Error('--wait must be a number of seconds from 0 to 3600');
	return seconds * 1000;
};

/** Makes a key and promotes it once every running instance reads it. */
async function newKey(deps: CliDeps, provider: KekProvider, opts: { kekLabel?: string; promote?: boolean; wait?: string }, verb: string) {
	const db = await keysTable(deps);
	const wait = waitMs(opts.wait);
	const label = await kekForNewKey(db, provider, opts.kekLabel);
	const id = await createDataKey(db, provider, label);
	if (opts.promote === false) {
		return { exitCode: 0, summary: { ok: true, keyId: id, kek: label, state: 'pending' }, lines: [`✓ ${verb} data key ${id} (wrapped by "${label}"), pending: \`credentials keys promote ${id}\` makes it current once every instance reads it`] };
	}
	const promoted = await promoteWhenRead(db, id, { waitMs: wait, readerTtlMs: readerTtlMs(deps.runtime.config.keysPollMs) });
	return {
		exitCode: 0,
		summary: { ok: true, keyId: id, kek: label, state: 'current', readers: promoted.readers, waitedMs: promoted.waitedMs },
		lines: [
			`✓ ${verb} data key ${id} (wrapped by "${label}") and made it current after ${promoted.readers} running instance(s) read it`,
			'  Values written from now on use it; `credentials rotate` moves the older ones.',
		],
	};
}

/** `credentials keys …`: the key hierarchy (src/keys/) — wrapped data keys under a key-encryption key. */
export function registerKeyCommands(credentials: Command, deps: CliDeps) {
	const keys = credentials.command('keys').description('Data keys wrapped by a key-encryption key (HSM over PKCS#11, or local): create, promote, rewrap, list');

	keys
		.command('create-kek')
		.description('Make a non-extractable AES-256 key-encryption key in the PKCS#11 token (wrap and unwrap only); a vendor’s own tool does the same')
		.requiredOption('--label <label>', 'the new KEK’s label (CREDENTIALS_PKCS11_KEK_LABEL names the one `keys init` uses)')
		.option('--json', 'print one JSON summary line')
		.action((opts: { label: string; json?: boolean }) =>
			run(deps, opts.json, async () => {
				const provider = await providerOf(deps, 'pkcs11');
				if (!('generateKek' in provider)) throw new Error('this provider cannot make keys');
				await (provider as Pkcs11Kek).generateKek(opts.label);
				return { exitCode: 0, summary: { ok: true, label: opts.label }, lines: [`✓ made the key-encryption key "${opts.label}" in the token (non-extractable: it never leaves it)`] };
			}),
		);

	keys
		.command('init')
		.description('The first wrapped data key: made, wrapped by the KEK, and current once every running instance reads it')
		.requiredOption('--kek <provider>', 'the KEK provider configured in CREDENTIALS_KEK_PROVIDER: pkcs11 or local')
		.option('--kek-label <label>', 'the KEK to wrap it under (default: the provider’s first)')
		.option('--wait <seconds>', 'how long to wait for running instances to read it', String(DEFAULT_WAIT_SECONDS))
		.option('--json', 'print one JSON summary line')
		.action((opts: { kek: string; kekLabel?: string; wait?: string; json?: boolean }) =>
			run(deps, opts.json, async () => {
				const provider = await providerOf(deps, opts.kek);
				if ((await readWrappedKeys(await keysTable(deps))).length > 0) throw new Error('data keys are wrapped already: `credentials keys new-data-key` adds another');
				return newKey(deps, provider, opts, 'created');
			}),
		);

	keys
		.command('new-data-key')
		.description('A new wrapped data key, current once every running instance reads it; older keys stay for reading (`rotate` moves rows)')
		.option('--kek-label <label>', 'the KEK to wrap it under (default: the current data key’s)')
		.option('--no-promote', 'leave it pending; `keys promote <id>` makes it current later')
		.option('--wait <seconds>', 'how long to wait for running instances to read it', String(DEFAULT_WAIT_SECONDS))
		.option('--json', 'print one JSON summary line')
		.action((opts: { kekLabel?: string; promote?: boolean; wait?: string; json?: boolean }) => run(deps, opts.json, async () => newKey(deps, await providerOf(deps), opts, 'created')));

	keys
		.command('promote <keyId>')
		.description('Make a wrapped data key current, once every running instance has unwrapped it')
		.option('--wait <seconds>', 'how long to wait for running instances to read it', String(DEFAULT_WAIT_SECONDS))
		.option('--json', 'print one JSON summary line')
		.action((keyId: string, opts: { wait?: string; json?: boolean }) =>
			run(deps, opts.json, async () => {
				const promoted = await promoteWhenRead(await keysTable(deps), keyId.trim().toLowerCase(), { waitMs: waitMs(opts.wait), readerTtlMs: readerTtlMs(deps.runtime.config.keysPollMs) });
				return { exitCode: 0, summary: { ok: true, keyId, ...promoted }, lines: [`✓ ${keyId} is the current data key (${promoted.readers} running instance(s) read it)`] };
			}),
		);

	keys
		.command('rewrap')
		.description('KEK rotation: rewrap every data key under another KEK (no value row changes; resumable)')
		.requiredOption('--to-kek <label>', 'the KEK to wrap every data key under')
		.option('--json', 'print one JSON summary line')
		.action((opts: { toKek: string; json?: boolean }) =>
			run(deps, opts.json, async () => {
				const report = await rewrapAll(await keysTable(deps), await providerOf(deps), opts.toKek);
				const lines = [
					`✓ rewrapped ${report.rewrapped.length} data key(s) under "${opts.toKek}"${report.already.length ? `; ${report.already.length} were already` : ''}`,
					...(report.changedConcurrently.length ? [`! changed meanwhile, run again: ${report.changedConcurrently.join(', ')}`] : []),
					'  Running instances keep the keys they unwrapped; the old KEK can go once this reports nothing left under it.',
				];
				return { exitCode: report.changedConcurrently.length ? 1 : 0, summary: { ok: report.changedConcurrently.length === 0, kek: opts.toKek, ...report }, lines };
			}),
		);

	keys
		.command('list')
		.description('Every data key: id, where it comes from (environment, or wrapped by which KEK), state, created, rows using it')
		.option('--json', 'print one JSON summary line')
		.action((opts: { json?: boolean }) =>
			run(deps, opts.json, async () => {
				const wrapped = await readWrappedKeys(deps.database);
				const state = await deps.runtime.keys();
				const schema = await deps.getSchema({ database: deps.database });
				const rowsByKey: Record<string, number> = {};
				for (const target of resolveTargets(schema, deps.runtime.fields.sync(schema).all())) {
					for (const [id, n] of Object.entries((await censusOf(deps.database, target)).byKeyId)) rowsByKey[id] = (rowsByKey[id] ?? 0) + n;
				}
				const wrappedIds = new Set(wrapped.map((w) => w.keyId));
				const environment = state.ok ? state.ring.all().filter((k) => !wrappedIds.has(k.id)) : [];
				const current = state.ok ? state.ring.current.id : null;
				const list = [
					...wrapped.map((w) => ({ keyId: w.keyId, source: 'wrapped' as const, kek: w.kek, state: w.state, createdAt: isoOrNull(w.createdAt), rows: rowsByKey[w.keyId] ?? 0 })),
					...environment.map((k) => ({ keyId: k.id, source: 'environment' as const, kek: null, state: k.id === current ? 'current' : 'previous', createdAt: null, rows: rowsByKey[k.id] ?? 0 })),
				];
				const view = deps.runtime.hierarchy.view();
				const lines = [
					`KEK provider: ${view.provider ?? 'none (data keys come from the environment)'}${view.token ? ` (token "${view.token}")` : ''}${state.ok ? '' : ` — ${state.error}${view.problem ? `: ${view.problem}` : ''}`}`,
					...list.map((k) => `${k.keyId}  ${k.state.padEnd(8)} ${k.source === 'wrapped' ? `wrapped by "${k.kek}"` : 'from the environment'}${k.createdAt ? `, created ${k.createdAt}` : ''}; ${k.rows} value(s)`),
				];
				return { exitCode: state.ok ? 0 : 1, summary: { ok: state.ok, provider: view.provider, token: view.token, problem: view.problem, current, keys: list }, lines };
			}),
		);
}
