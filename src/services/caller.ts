import type { Accountability } from '@directus/types';
import { UnauthorizedError } from '../errors.js';

/**
 * Who calls a service, built once by the route from the request: a Directus user (with the
 * accountability Directus's policies and the owner guard apply to) or a server process holding the
 * shared secret. `kind` leaves room for named machine identities. Services never see a request.
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
}
export type Caller = UserCaller | ServerCaller;

/** The user behind a user route (its guard already ran; this only narrows the type). */
export function asUser(caller: Caller): UserCaller {
	if (caller.kind !== 'user') throw new UnauthorizedError({ reason: 'Unauthorized' });
	return caller;
}
