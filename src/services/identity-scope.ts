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

export const mayReadCollection = (caller: Caller, collection: string) => {
	const allowed = identityOf(caller)?.collections;
	return !allowed || allowed.includes(collection);
};

/** Row columns an identity's scope is decided on: `platform` for platforms, `service` for the vault's services. */
const SCOPED_COLUMNS = [
	['platforms', 'platform'],
	['services', 'service'],
] as const;

/** The columns of the collection this caller's scope needs read with the row. */
export function scopeColumns(caller: Caller, columnsOfCollection: Record<string, unknown>): string[] {
	const identity = identityOf(caller);
	if (!identity) return [];
	return SCOPED_COLUMNS.filter(([scope, column]) => identity[scope] && column in columnsOfCollection).map(([, column]) => column);
}

/** Whether the row (read with scopeColumns) is inside the caller's scope; a row of a collection without the column is not restricted by it. */
export function rowInScope(caller: Caller, row: Record<string, unknown>): boolean {
	const identity = identityOf(caller);
	if (!identity) return true;
	return SCOPED_COLUMNS.every(([scope, column]) => {
		const allowed = identity[scope];
		return !allowed || !(column in row) || allowed.includes(String(row[column]));
	});
}
