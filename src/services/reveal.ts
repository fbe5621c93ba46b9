import { DecryptError, openStoredValueAsync } from '../crypto/index.js';
import type { RevealOutcome } from '../contracts/reveal-event.js';
import { ForbiddenError, NotFoundError, UndecryptableError } from '../errors.js';
import { recordReveal } from './audit.js';
import type { Caller } from './caller.js';
import { ring, type ServiceDeps } from './deps.js';
import { readRaw, type RawRow } from './rows.js';
import { directusSecretFor } from '../schema/protected-fields.js';

export interface RevealTarget {
	collection: string;
	field: string;
	id: string;
	/** The route, for the audit entry. */
	route: string;
	/** Other columns of the row the route answers with. */
	with?: string[];
	/** The answer for a missing row (and, when `emptyIsMissing`, for an empty value). */
	notFound?: string;
	emptyIsMissing?: boolean;
}

const outcomeOf = (error: unknown): RevealOutcome =>
	error instanceof NotFoundError ? 'not-found' : error instanceof ForbiddenError ? 'refused' : error instanceof UndecryptableError ? 'undecryptable' : 'failed';

/**
 * Runs one reveal and reports how it ended (deps.reportReveal: Directus's event bus), after the answer is
 * ready or the reveal has failed. The report never waits on its listeners.
 */
export async function reporting<T extends { key: string | null }>(
	deps: ServiceDeps,
	caller: Caller,
	event: { route: string; collection: string; item: string | null },
	reveal: () => Promise<T>,
): Promise<T> {
	const report = (item: string | null, outcome: RevealOutcome) => deps.reportReveal?.({ ...event, item, caller: caller.kind, user: caller.user, outcome });
	try {
		const result = await reveal();
		report(result.key, 'revealed');
		return result;
	} catch (error) {
		report(event.item, outcomeOf(error));
		throw error;
	}
}

/**
 * The one way a stored value leaves the server: the current keyring, the raw row, the audit entry
 * (written before anything is opened: no audit, no reveal), then the value opened for exactly
 * this row. Every reveal route goes through here (or through revealRow, when it has read the row itself).
 */
export async function revealField(deps: ServiceDeps, caller: Caller, target: RevealTarget): Promise<{ key: string; row: Record<string, unknown>; value: unknown }> {
	const { collection, field, notFound = 'Not found' } = target;
	return reporting(deps, caller, { route: target.route, collection, item: target.id }, async () => {
		ring(deps);
		const raw = await readRaw(deps, collection, target.id, [...(target.with ?? []), field], notFound);
		if (target.emptyIsMissing && (raw.row[field] === null || raw.row[field] === undefined)) throw new NotFoundError({ reason: notFound });
		return revealRow(deps, caller, target, raw);
	});
}

/** The audit entry, then the value opened for the row it was read from (its key as stored). Its caller reports the outcome. */
export async function revealRow(deps: ServiceDeps, caller: Caller, target: Pick<RevealTarget, 'collection' | 'field' | 'route'>, { key, row }: RawRow) {
	const { collection, field } = target;
	const keys = ring(deps);
	await recordReveal(deps, caller, { collection, item: key, route: target.route });
	try {
		const opened = await openStoredValueAsync(keys, row[field], { collection, field, pk: key }, directusSecretFor(target, deps.directusSecret));
		return { key, row, value: opened.value };
	} catch (error) {
		if (error instanceof DecryptError) throw new UndecryptableError({ reason: `Stored value cannot be decrypted: ${error.message}` });
		throw error;
	}
}
