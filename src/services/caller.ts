import type { Accountability } from '@directus/types';
import { UnauthorizedError } from '../errors.js';
import type { MachineIdentity } from './identities.js';

/**
 * Who calls a service, built once by the route from the request: a Directus user (with the
 * accountability Directus's policies and the owner guard apply to) or a server process holding the
 * shared secret or a machine identity's token. Services never see a request.
 */
interface Origin {
	ip: string | null;
	userAgent: string;
}
export interface UserCaller extends Origin {
	kind: 'user';
	user: string;
	accountability: Accountability;
}
export interface ServerCaller extends Origin {
	kind: 'server';
	user: null;
	/** The machine identity whose token was sent; null for the shared secret (every scope). */
	identity: MachineIdentity | null;
}
export type Caller = UserCaller | ServerCaller;

/** The user behind a user route (its guard already ran; this only narrows the type). */
export function asUser(caller: Caller): UserCaller {
	if (caller.kind !== 'user') throw new UnauthorizedError({ reason: 'Unauthorized' });
	return caller;
}

/** How the audit and the events name a caller. */
export const callerKind = (caller: Caller) => (caller.kind === 'user' ? 'user' : caller.identity ? 'identity' : 'shared-secret');
