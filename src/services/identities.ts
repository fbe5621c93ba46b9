import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { identityTokenHash, isIdentityToken, newIdentityToken } from '../crypto/index.js';
import type { CreateIdentityInput, IdentityViewAnswer, ServerRoute } from '../contracts/identities.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { isoOrNull, msOrNull } from '../lib/dates.js';
import { IDENTITIES_COLLECTION } from '../schema/collections.js';

/**
 * Machine identities, read and written with plain statements (the CLI has no request and no
 * accountability; the routes that call these are admin-only). The token is generated here and
 * returned once; the table holds its digest.
 */

/** An identity as a request carries it after its token was checked. */
export interface MachineIdentity {
	id: string;
	name: string;
	routes: ServerRoute[];
	collections: string[] | null;
	platforms: string[] | null;
	services: string[] | null;
	rateLimit: number | null;
}

type Row = Record<string, unknown>;

const COLUMNS = ['id', 'name', 'routes', 'collections', 'platforms', 'services', 'rate_limit', 'expires_at', 'revoked_at', 'created_at', 'last_used_at'];

/** JSON columns come back parsed (PostgreSQL) or as text (SQLite, MariaDB); a list of strings either way, or null. */
function list(value: unknown): string[] | null {
	const parsed = typeof value === 'string' ? safeJson(value) : value;
	return Array.isArray(parsed) && parsed.length > 0 ? parsed.map(String) : null;
}

/** A scope column that is neither empty nor a list of strings (written around the extension's checks): the identity then opens nothing. */
function malformed(value: unknown): boolean {
	if (value === null || value === undefined) return false;
	const parsed = typeof value === 'string' ? safeJson(value) : value;
	return !Array.isArray(parsed) || parsed.some((entry) => typeof entry !== 'string');
}
function safeJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

/** Active: not revoked, and its expiry (if any) still ahead. */
const isActive = (row: Row, now = Date.now()) => msOrNull(row['revoked_at']) === null && ((msOrNull(row['expires_at']) ?? Infinity) > now);

export function viewOf(row: Row): IdentityViewAnswer {
	return {
		id: String(row['id']),
		name: String(row['name']),
		routes: (list(row['routes']) ?? []) as ServerRoute[],
		collections: list(row['collections']),
		platforms: list(row['platforms']),
		services: list(row['services']),
		rate_limit: row['rate_limit'] === null || row['rate_limit'] === undefined ? null : Number(row['rate_limit']),
		expires_at: isoOrNull(row['expires_at']),
		revoked_at: isoOrNull(row['revoked_at']),
		created_at: isoOrNull(row['created_at']),
		last_used_at: isoOrNull(row['last_used_at']),
		active: isActive(row),
	};
}

const json = (value: string[] | null) => (value === null ? null : JSON.stringify(value));

export async function createIdentity(database: Knex, input: CreateIdentityInput): Promise<IdentityViewAnswer & { token: string }> {
	const taken = () => new ConflictError({ reason: `An identity named "${input.name}" exists (revoked ones keep their names): choose another name` });
	if (await database(IDENTITIES_COLLECTION).where({ name: input.name }).first('id')) throw taken();
	const token = newIdentityToken();
	const row = {
		id: randomUUID(),
		name: input.name,
		token_hash: identityTokenHash(token),
		routes: json(input.routes),
		collections: json(input.collections),
		platforms: json(input.platforms),
		services: json(input.services),
		rate_limit: input.rate_limit,
		expires_at: input.expires_at ? new Date(input.expires_at) : null,
		revoked_at: null,
		created_at: new Date(),
		last_used_at: null,
	};
	try {
		await database(IDENTITIES_COLLECTION).insert(row);
	} catch (error) {
		// Two creates of one name at once: the unique index answers for the second.
		if (await database(IDENTITIES_COLLECTION).where({ name: input.name }).first('id')) throw taken();
		throw error;
	}
	return { ...viewOf(row), token };
}

export async function listIdentities(database: Knex): Promise<IdentityViewAnswer[]> {
	return ((await database(IDENTITIES_COLLECTION).select(COLUMNS).orderBy('name')) as Row[]).map(viewOf);
}

/** By id or by name. Revoking twice keeps the first time. */
export async function revokeIdentity(database: Knex, idOrName: string): Promise<IdentityViewAnswer> {
	const byId = /^[0-9a-f-]{36}$/i.test(idOrName);
	// Ids are written lower case (randomUUID, Directus's uuid special); SQLite compares text with its case.
	const find = () => database(IDENTITIES_COLLECTION).where(byId ? { id: idOrName.toLowerCase() } : { name: idOrName }).first(COLUMNS) as Promise<Row | undefined>;
	const row = await find();
	if (!row) throw new NotFoundError({ reason: `No identity ${byId ? 'with id' : 'named'} ${idOrName}` });
	if (msOrNull(row['revoked_at']) === null) await database(IDENTITIES_COLLECTION).where({ id: row['id'] }).update({ revoked_at: new Date() });
	return viewOf((await find())!);
}

/** When each identity's last_used_at was last written by this process: once a minute is enough to tell use. */
const lastTouched = new Map<string, number>();
const TOUCH_EVERY_MS = 60_000;

/**
 * The identity a token belongs to, if it is active. One indexed read per request: revocation and
 * expiry take effect on the next request on every instance, with nothing cached.
 */
export async function identityForToken(database: Knex, token: string): Promise<MachineIdentity | null> {
	if (!isIdentityToken(token)) return null;
	const row = (await database(IDENTITIES_COLLECTION).where({ token_hash: identityTokenHash(token) }).first(COLUMNS)) as Row | undefined;
	if (!row || !isActive(row)) return null;
	// Fail closed: a scope that cannot be read would read as "any".
	if (['routes', 'collections', 'platforms', 'services'].some((column) => malformed(row[column]))) return null;
	const view = viewOf(row);
	const now = Date.now();
	if (now - (lastTouched.get(view.id) ?? 0) > TOUCH_EVERY_MS) {
		lastTouched.set(view.id, now);
		// Best effort, not awaited: the time of use is a hint, never a reason to fail a request.
		void database(IDENTITIES_COLLECTION).where({ id: view.id }).update({ last_used_at: new Date(now) }).catch(() => undefined);
	}
	return { id: view.id, name: view.name, routes: view.routes, collections: view.collections, platforms: view.platforms, services: view.services, rateLimit: view.rate_limit };
}

/** Whether any identity is active: `status` warns while the shared secret is the only way in. */
export async function activeIdentityCount(database: Knex): Promise<number> {
	if (!(await database.schema.hasTable(IDENTITIES_COLLECTION))) return 0;
	return ((await database(IDENTITIES_COLLECTION).select(['revoked_at', 'expires_at'])) as Row[]).filter((row) => isActive(row)).length;
}
