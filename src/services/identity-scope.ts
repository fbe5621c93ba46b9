import type { ServerRoute } from '../contracts/identities.js';
import type { Caller } from './caller.js';
import type { MachineIdentity } from './identities.js';

/**
 * What a machine identity may reach. The shared secret and users carry no identity here: the secret
 * has every scope (the seed's contract), users are limited by ownership instead. A restriction an
 * identity leaves out (null) does not restrict.
 */
const identityOf = (caller: Caller): MachineIdentity | null => (caller.kind === 'server' ? caller.identity : null);

export const mayCallRoute = (caller: Caller, route: ServerRoute) => identityOf(caller)?.routes.includes(route) ?? true;

/** A restriction left out (null) allows everything; a list allows what it names. */
const allows = (allowed: readonly string[] | null | undefined, value: string) => !allowed || allowed.includes(value);

export const mayReadCollection = (caller: Caller, collection: string) => allows(identityOf(caller)?.collections, collection);

/** Whether rows of this platform can be in the caller's scope (decided before a search, so that a search outside it says nothing). */
export const mayReachPlatform = (caller: Caller, platform: string) => allows(identityOf(caller)?.platforms, platform);

/** Row columns an identity's scope is decided on: `platform` for platforms, `service` for the vault's services. */
const SCOPED_COLUMNS = [
	['platforms', 'platform'],
	['services', 'service'],
] as const;

/** Whether the caller is an identity limited to some rows (by collection, or a scoped column). */
export const hasRowLimits = (caller: Caller) => {
	const identity = identityOf(caller);
	return Boolean(identity && (identity.collections || SCOPED_COLUMNS.some(([scope]) => identity[scope])));
};

/** The columns of the collection this caller's scope needs read with the row. */
export function scopeColumns(caller: Caller, columnsOfCollection: Record<string, unknown>): string[] {
	const identity = identityOf(caller);
	if (!identity) return [];
	return SCOPED_COLUMNS.filter(([scope, column]) => identity[scope] && column in columnsOfCollection).map(([, column]) => column);
}

/**
 * Whether the row is inside the caller's scope. Decided by the collection's columns, not the row's: a
 * collection without the column is not restricted by it, and a row read without a column its collection
 * has is refused (fail closed), as is one whose value (null included) is not listed.
 */
export function rowInScope(caller: Caller, row: Record<string, unknown>, columnsOfCollection: Record<string, unknown>): boolean {
	const identity = identityOf(caller);
	if (!identity) return true;
	return SCOPED_COLUMNS.every(([scope, column]) => {
		const allowed = identity[scope];
		if (!allowed || !(column in columnsOfCollection)) return true;
		return typeof row[column] === 'string' && allows(allowed, row[column] as string);
	});
}
