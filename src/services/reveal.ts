import { DecryptError, openStoredValueAsync } from '../crypto/index.js';
import type { RevealOutcome } from '../contracts/reveal-event.js';
import { ForbiddenError, NotFoundError, RateLimitedError, UndecryptableError } from '../errors.js';
import { recordAttempt } from './audit.js';
import { mayReadCollection, rowInScope, scopeColumns } from './identity-scope.js';
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
	error instanceof NotFoundError
		? 'not-found'
		: error instanceof ForbiddenError
			? 'refused'
			: error instanceof UndecryptableError
				? 'undecryptable'
				: error instanceof RateLimitedError
					? 'rate-limited'
					: 'failed';

/** Tells Directus's event bus (deps.reportReveal) how an attempt ended; never waits on its listeners. */
export function reportAttempt(deps: ServiceDeps, caller: Caller, attempt: { route: string; collection: string | null; item: string | null; outcome: RevealOutcome }) {
	deps.reportReveal?.({ ...attempt, caller: caller.kind, identity: caller.kind === 'server' ? (caller.identity?.name ?? null) : null, user: caller.user });
}

/**
 * Runs one reveal, then writes it to the audit and reports it. The value is returned only once its
 * audit entry has committed (a failed write fails the reveal); a failed attempt of a known caller is
 * written too (not found, refused, undecryptable), then passed on.
 */
export async function reporting<T extends { key: string | null }>(
	deps: ServiceDeps,
	caller: Caller,
	event: { route: string; collection: string; item: string | null },
	reveal: () => Promise<T>,
): Promise<T> {
	let result: T;
	try {
		result = await reveal();
	} catch (error) {
		const outcome = outcomeOf(error);
		// The attempt's own failure is the answer; a failed audit write of it is not worth another.
		if (outcome !== 'failed') await recordAttempt(deps, caller, { ...event, outcome }).catch(() => undefined);
		reportAttempt(deps, caller, { ...event, outcome });
		throw error;
	}
	try {
		await recordAttempt(deps, caller, { ...event, item: result.key, outcome: 'revealed' });
	} catch (error) {
		reportAttempt(deps, caller, { ...event, item: result.key, outcome: 'failed' });
		throw error;
	}
	reportAttempt(deps, caller, { ...event, item: result.key, outcome: 'revealed' });
	return result;
}

/**
 * The one way a stored value leaves the server: the current keyring, the raw row (a row outside a
 * machine identity's scope is missing), the value opened for exactly this row, and — in `reporting` —
 * the audit entry committed before the value is returned. Every reveal route goes through here (or
 * through revealRow, when it has read the row itself).
 */
export async function revealField(deps: ServiceDeps, caller: Caller, target: RevealTarget): Promise<{ key: string; row: Record<string, unknown>; value: unknown }> {
	const { collection, field, notFound = 'Not found' } = target;
	return reporting(deps, caller, { route: target.route, collection, item: target.id }, async () => {
		ring(deps);
		if (!mayReadCollection(caller, collection)) throw new NotFoundError({ reason: notFound });
		const scoped = scopeColumns(caller, deps.schema.collections[collection]?.fields ?? {});
		const raw = await readRaw(deps, collection, target.id, [...new Set([...(target.with ?? []), ...scoped, field])], notFound);
		if (target.emptyIsMissing && (raw.row[field] === null || raw.row[field] === undefined)) throw new NotFoundError({ reason: notFound });
		return revealRow(deps, caller, { ...target, notFound }, raw);
	});
}

/**
 * The value opened for the row it was read from (its key as stored), if the row is in the caller's
 * scope. Its caller (through `reporting`) audits and reports the outcome.
 */
export async function revealRow(
	deps: ServiceDeps,
	caller: Caller,
	target: Pick<RevealTarget, 'collection' | 'field' | 'route' | 'notFound'>,
	{ key, row }: RawRow,
) {
	const { collection, field } = target;
	const keys = ring(deps);
	if (!mayReadCollection(caller, collection) || !rowInScope(caller, row, deps.schema.collections[collection]?.fields ?? {})) throw new NotFoundError({ reason: target.notFound ?? 'Not found' });
	try {
		const opened = await openStoredValueAsync(keys, row[field], { collection, field, pk: key }, directusSecretFor(target, deps.directusSecret));
		return { key, row, value: opened.value };
	} catch (error) {
		if (error instanceof DecryptError) throw new UndecryptableError({ reason: `Stored value cannot be decrypted: ${error.message}` });
		throw error;
	}
}
