import type { Knex } from 'knex';
import { keyId, makeKeyring, newDataKey } from '../crypto/index.js';
import { canaryFor } from '../lifecycle/canary.js';
import type { KekProvider } from './kek.js';
import { FORGET_AFTER_MS, insertWrappedKey, promoteWrappedKey, readReaders, readWrappedKeys, replaceWrapping, type KeyReader } from './store.js';

/**
 * What `credentials keys …` does, without the command line: data keys made, wrapped, promoted and
 * rewrapped. Every step leaves the database readable by every instance: a key is pending until all
 * live instances have unwrapped it, and a rewrap replaces one key's wrapping at a time, checked first.
 */

/** A new random data key, wrapped under the KEK labelled `kekLabel`, stored pending with its canary. */
export async function createDataKey(db: Knex, provider: KekProvider, kekLabel: string): Promise<string> {
	const raw = newDataKey();
	try {
		const id = keyId(raw);
		const wrapped = await provider.wrap(kekLabel, raw, id);
		// Unwrapped again before it is stored: a KEK that wraps but cannot unwrap would leave a key nobody opens.
		const back = await provider.unwrap(kekLabel, wrapped, id);
		const same = back.equals(raw);
		back.fill(0);
		if (!same) throw new Error(`the key-encryption key "${kekLabel}" does not give back what it wrapped`);
		await insertWrappedKey(db, { keyId: id, wrapped, kek: kekLabel, canary: canaryFor(makeKeyring(raw)) });
		return id;
	} finally {
		raw.fill(0);
	}
}

/** The KEK new data keys are wrapped under: the one named, else the current data key's, else the provider's first. */
export async function kekForNewKey(db: Knex, provider: KekProvider, named?: string): Promise<string> {
	if (named) return named;
	const current = (await readWrappedKeys(db)).find((r) => r.state === 'current');
	return current?.kek ?? provider.defaultLabel;
}

export class PromotionRefused extends Error {
	constructor(
		message: string,
		readonly lagging: KeyReader[],
	) {
		super(message);
		this.name = 'PromotionRefused';
	}
}

/**
 * Makes a wrapped key current once every live instance reads it, waiting up to `waitMs` for the slow
 * ones (they look every CREDENTIALS_KEYS_POLL_SECONDS). An instance whose report does not change for
 * `readerTtlMs` while we watch has stopped (measured on this process's clock alone, so hosts' clocks
 * may differ); one that starts later loads every key at start.
 */
export async function promoteWhenRead(
	db: Knex,
	id: string,
	{ waitMs, readerTtlMs, stepMs = 500 }: { waitMs: number; readerTtlMs: number; stepMs?: number },
): Promise<{ readers: number; waitedMs: number }> {
	const rows = await readWrappedKeys(db);
	const row = rows.find((r) => r.keyId === id);
	if (!row) throw new Error(`no wrapped data key ${id} (\`credentials keys list\` shows them)`);
	const started = Date.now();
	const heard = new Map<string, { seenAt: string; at: number }>();
	for (;;) {
		const now = Date.now();
		const reports = (await readReaders(db)).filter((r) => !(now - Date.parse(r.seenAt) > FORGET_AFTER_MS));
		for (const r of reports) if (heard.get(r.instance)?.seenAt !== r.seenAt) heard.set(r.instance, { seenAt: r.seenAt, at: now });
		const live = reports.filter((r) => now - heard.get(r.instance)!.at < readerTtlMs || r.keyIds.includes(id));
		const lagging = live.filter((r) => !r.keyIds.includes(id));
		if (lagging.length === 0) {
			if (!(await promoteWrappedKey(db, id))) throw new Error(`no wrapped data key ${id}`);
			return { readers: live.length, waitedMs: Date.now() - started };
		}
		if (Date.now() - started >= waitMs) {
			throw new PromotionRefused(
				`not promoted: ${lagging.length} running instance(s) have not unwrapped ${id} yet (${lagging.map((r) => r.instance).join(', ')}); their logs say why. Nothing changed: run \`credentials keys promote ${id}\` again`,
				lagging,
			);
		}
		await new Promise((resolve) => setTimeout(resolve, stepMs));
	}
}

export interface RewrapReport {
	rewrapped: string[];
	already: string[];
	changedConcurrently: string[];
}

/**
 * KEK rotation: every wrapped data key is rewrapped under `toLabel`; no value row is touched. One key at
 * a time, each checked to unwrap under the new KEK before its row changes (compare-and-swap on the old
 * wrapping), so a run killed part-way leaves every key readable under one KEK or the other, and a rerun
 * finishes it. Keep the old KEK until the run reports nothing left under it.
 */
export async function rewrapAll(db: Knex, provider: KekProvider, toLabel: string): Promise<RewrapReport> {
	const report: RewrapReport = { rewrapped: [], already: [], changedConcurrently: [] };
	for (const row of await readWrappedKeys(db)) {
		if (row.kek === toLabel) {
			report.already.push(row.keyId);
			continue;
		}
		const raw = await provider.unwrap(row.kek, row.wrapped, row.keyId);
		try {
			const wrapped = await provider.wrap(toLabel, raw, row.keyId);
			const back = await provider.unwrap(toLabel, wrapped, row.keyId);
			const same = back.equals(raw);
			back.fill(0);
			if (!same) throw new Error(`the key-encryption key "${toLabel}" does not give back what it wrapped`);
			if (await replaceWrapping(db, row.keyId, row.wrapped, { wrapped, kek: toLabel })) report.rewrapped.push(row.keyId);
			else report.changedConcurrently.push(row.keyId);
		} finally {
			raw.fill(0);
		}
	}
	return report;
}
