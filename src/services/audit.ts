import type { Knex } from 'knex';
import type { RevealOutcome } from '../contracts/reveal-event.js';
import { AuditUnavailableError } from '../errors.js';
import { groupCommit } from '../lib/group-commit.js';
import { AUDIT_COLLECTION } from '../schema/collections.js';
import { callerKind, type Caller } from './caller.js';
import type { ServiceDeps } from './deps.js';

/** One attempt to reach a stored value: the route, the row (when there is one to name) and how it ended. */
export interface AuditedAttempt {
	route: string;
	collection: string | null;
	item: string | null;
	outcome: Exclude<RevealOutcome, 'failed'>;
}

type AuditRow = Record<string, unknown>;

/** 80 rows × 11 columns stays under every database's limit on bound parameters (SQLite's is 999). */
const MAX_ROWS_PER_INSERT = 80;
const writers = new WeakMap<Knex, Map<string, (row: AuditRow) => Promise<void>>>();

/** One group-committed writer per database and table: concurrent reveals share one multi-row INSERT. */
function writerFor(database: Knex, table: string) {
	let byTable = writers.get(database);
	if (!byTable) writers.set(database, (byTable = new Map()));
	let write = byTable.get(table);
	if (!write) {
		// A plain insert: ItemsService would run the whole item pipeline for a row only we write. The
		// batch is taken once a connection is held (see groupCommit): on SQLite's one connection the
		// insert waits behind the reads of the reveals arriving meanwhile, which then share its commit.
		const connection = { acquire: () => database.client.acquireConnection(), release: (held: unknown) => void database.client.releaseConnection(held) };
		write = groupCommit<AuditRow, unknown>(async (rows, held) => void (await database(table).insert(rows).connection(held)), MAX_ROWS_PER_INSERT, connection);
		byTable.set(table, write);
	}
	return write;
}

const clip = (value: string | null, max: number) => (value === null ? null : value.slice(0, max));

/**
 * The audit of record, `credentials_audit`: who (identity, shared secret or user), which route and row,
 * how it ended, from where — never the value. Until `setup` has created it (an upgraded install),
 * reveals go to directus_activity as before, and refused attempts are not written.
 */
function auditRow(deps: ServiceDeps, caller: Caller, attempt: AuditedAttempt): { table: string; row: AuditRow } | null {
	const kind = callerKind(caller);
	if (deps.schema.collections[AUDIT_COLLECTION]) {
		const identity = caller.kind === 'server' ? caller.identity : null;
		return {
			table: AUDIT_COLLECTION,
			row: {
				timestamp: new Date(),
				route: attempt.route,
				caller: kind,
				identity: identity?.id ?? null,
				identity_name: identity?.name ?? null,
				user: caller.user,
				collection: clip(attempt.collection, 64),
				item: clip(attempt.item, 255),
				outcome: attempt.outcome,
				ip: clip(caller.ip, 64),
				user_agent: caller.userAgent.slice(0, 1000),
			},
		};
	}
	if (attempt.outcome !== 'revealed') return null;
	return {
		table: 'directus_activity',
		row: {
			action: 'reveal',
			user: caller.user,
			collection: attempt.collection,
			item: attempt.item ?? '',
			ip: caller.ip,
			user_agent: caller.userAgent.slice(0, 1000),
			origin: `credentials/${attempt.route} by ${kind === 'user' ? 'user' : 'server secret'}`,
			timestamp: new Date(),
		},
	};
}

/**
 * Writes one attempt. A reveal waits until the INSERT holding its own entry has committed (reveals
 * arriving together share one) before its value leaves: no audit, no reveal — a failed write is a
 * 503 and nothing is returned.
 */
export async function recordAttempt(deps: ServiceDeps, caller: Caller, attempt: AuditedAttempt): Promise<void> {
	const entry = auditRow(deps, caller, attempt);
	if (!entry) return;
	try {
		await writerFor(deps.database, entry.table)(entry.row);
	} catch (cause) {
		throw new AuditUnavailableError({ reason: 'The reveal could not be written to the audit log, so nothing was revealed' }, { cause });
	}
}

/**
 * An operator's command that exposes or changes stored secrets (decrypt-field) goes to directus_activity
 * like a reveal: before anything is opened, naming the command, the field, the operating-system user and
 * the host; never a value. It is not group-committed: the command waits for its own entry.
 */
export async function recordCommand(database: Knex, event: { action: string; collection: string; item: string; origin: string }): Promise<void> {
	await database('directus_activity').insert({ ...event, user: null, ip: null, user_agent: null, timestamp: new Date() });
}
