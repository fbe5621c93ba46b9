import type { Knex } from 'knex';
import { AuditUnavailableError } from '../errors.js';
import { groupCommit } from '../lib/group-commit.js';
import type { Caller } from './caller.js';
import type { ServiceDeps } from './deps.js';

export interface RevealEvent {
	collection: string;
	item: string;
	route: string;
}

type ActivityRow = Record<string, unknown>;

/** 100 rows × 9 columns stays under every database's limit on bound parameters (SQLite's is 999). */
const MAX_ROWS_PER_INSERT = 100;
const writers = new WeakMap<Knex, (row: ActivityRow) => Promise<void>>();

/** One group-committed writer per database: concurrent reveals share one multi-row INSERT. */
function writerFor(database: Knex) {
	let write = writers.get(database);
	if (!write) {
		// A plain insert: ActivityService would run the whole item pipeline for a row only we write.
		write = groupCommit<ActivityRow>(async (rows) => void (await database('directus_activity').insert(rows)), MAX_ROWS_PER_INSERT);
		writers.set(database, write);
	}
	return write;
}

/**
 * One directus_activity entry per reveal: action `reveal`, the user (or none for the server
 * secret), the item, the IP and user agent, and in `origin` which route and which kind of caller.
 * Never the value. The caller waits until the INSERT holding its own entry has committed (reveals
 * arriving together share one): no audit, no reveal — a failed write is a 503 and nothing is opened.
 */
export async function recordReveal(deps: ServiceDeps, caller: Caller, event: RevealEvent): Promise<void> {
	try {
		await writerFor(deps.database)({
			action: 'reveal',
			user: caller.user,
			collection: event.collection,
			item: event.item,
			ip: caller.ip,
			user_agent: caller.userAgent.slice(0, 1000),
			origin: `credentials/${event.route} by ${caller.kind === 'server' ? 'server secret' : 'user'}`,
			timestamp: new Date(),
		});
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
