import { createHash, timingSafeEqual } from 'node:crypto';
import type { Accountability } from '@directus/types';
import type { Request } from 'express';
import { isIdentityToken } from '../crypto/index.js';
import { ForbiddenError, NotConfiguredError, RateLimitedError, UnauthorizedError } from '../errors.js';
import type { WindowCounter } from '../lib/rate-window.js';
import type { Caller, ServerCaller, UserCaller } from '../services/caller.js';
import type { MachineIdentity } from '../services/identities.js';

/** Who may call a route: any signed-in user, an admin user, or a server with the shared secret. */
export type AuthKind = Caller['kind'] | 'admin';

type AccountableRequest = Request & { accountability?: Accountability };

/** Where a request comes from, as Directus saw it (its accountability carries the IP it trusts). */
function origin(req: AccountableRequest) {
	return { ip: req.accountability?.ip ?? req.ip ?? null, userAgent: (req.accountability?.userAgent ?? req.get('user-agent') ?? '').slice(0, 1000) };
}

export const SERVER_SECRET_HEADER = 'x-rbac-sync-secret';

/** Any valid Directus session, access token or static token; identity from req.accountability. */
export function requireUser(req: Request): UserCaller {
	const accountability = (req as AccountableRequest).accountability;
	if (!accountability?.user) throw new UnauthorizedError({ reason: 'Unauthorized' });
	return { kind: 'user', user: accountability.user, accountability, ...origin(req) };
}

/** A signed-in Directus admin; other users get 403. */
export function requireAdmin(req: Request): UserCaller {
	const caller = requireUser(req);
	if (!caller.accountability.admin) throw new ForbiddenError({ reason: 'Forbidden' });
	return caller;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The server secret header of each request, taken out of its headers before anything logs them. */
const serverSecrets = new WeakMap<object, unknown>();

/**
 * Directus's HTTP logger writes request headers (LOG_STYLE=raw, and the `/websocket/logs` stream);
 * its redaction list is fixed before extensions load. So the header is taken out of every
 * request — whatever its path, and whether or not the secret is right — before the logger runs
 * (`middlewares.before`), and the server routes read it from here.
 */
export function takeServerSecretHeader(req: Request, _res: unknown, next: () => void): void {
	if (req.headers[SERVER_SECRET_HEADER] !== undefined) {
		serverSecrets.set(req, req.headers[SERVER_SECRET_HEADER]);
		delete req.headers[SERVER_SECRET_HEADER];
		for (let i = req.rawHeaders.length - 2; i >= 0; i -= 2) {
			if (req.rawHeaders[i]!.toLowerCase() === SERVER_SECRET_HEADER) req.rawHeaders.splice(i, 2);
		}
	}
	next();
}

/** What a server route's caller is checked against. */
export interface MachineAuth {
	/** The legacy shared secret (RBAC_SYNC_WEBHOOK_SECRET), an identity with every scope; unset: identities only. */
	secret: string | undefined;
	/** The active identity a token belongs to, or null. */
	identityFor: (token: string) => Promise<MachineIdentity | null>;
	/** Failed attempts per address and minute: counted, never written to the database. */
	failedAttempts: WindowCounter;
	/** How many an address may make per minute (CREDENTIALS_FAILED_ATTEMPTS_PER_MINUTE, 30). */
	maxFailedAttempts: number;
}

/**
 * A server route's caller: a machine identity's token, or the shared secret — a Directus token, even
 * an admin's, opens none of them. Digests make the secret's comparison constant-time whatever the
 * lengths; tokens are looked up by their digest. Failures are counted per address (Directus's
 * accountability IP: IP_TRUST_PROXY decides whether a client can name it), never written — every bad
 * request would become a database write. Past the limit an address gets 429 and its shared-secret
 * attempts are not even compared (the secret may be guessable; a right guess must not get through a
 * flood of wrong ones), while identity tokens — 256 random bits, nothing to guess — are still looked
 * up, so a service behind the same address (NAT) keeps working.
 */
export async function requireMachine(req: Request, auth: MachineAuth): Promise<ServerCaller> {
	const from = origin(req);
	const address = `failed:${from.ip ?? 'unknown'}`;
	const limited = async () => (await auth.failedAttempts.peek(address)) >= auth.maxFailedAttempts;
	const tooMany = () => new RateLimitedError({ reason: 'Too many failed attempts from this address: try again in a minute' });
	const given = serverSecrets.has(req) ? serverSecrets.get(req) : req.headers[SERVER_SECRET_HEADER];
	if (isIdentityToken(given)) {
		const identity = await auth.identityFor(given);
		if (identity) return { kind: 'server', user: null, identity, ...from };
	} else if (!auth.secret) {
		throw new NotConfiguredError({ reason: 'RBAC_SYNC_WEBHOOK_SECRET not set' });
	} else if (await limited()) {
		throw tooMany();
	} else if (typeof given === 'string' && timingSafeEqual(digest(given), digest(auth.secret))) {
		return { kind: 'server', user: null, identity: null, ...from };
	}
	if ((await auth.failedAttempts.hit(address)) > auth.maxFailedAttempts) throw tooMany();
	throw new UnauthorizedError({ reason: 'Unauthorized' });
}
