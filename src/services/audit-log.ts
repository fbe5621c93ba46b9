import type { Knex } from 'knex';
import type { AuditAnswerShape, AuditEntryAnswer, AuditQueryInput } from '../contracts/identities.js';
import { isoOrNull } from '../lib/dates.js';
import { dialectOf } from '../lib/dialect.js';
import { AUDIT_COLLECTION } from '../schema/collections.js';

/**
 * The audit of record, read for admins: one page of entries newest first, and a summary of the same
 * filters over whole UTC days — per day, per caller, per route — counted in SQL, never row by row.
 */
const DAY_MS = 86_400_000;
const COLUMNS = ['id', 'timestamp', 'route', 'caller', 'identity', 'identity_name', 'user', 'collection', 'item', 'outcome', 'ip', 'user_agent'];

/**
 * The entry's day as YYYY-MM-DD, as each database can say it: UTC on PostgreSQL and SQLite (which holds
 * Directus timestamps as milliseconds); on MySQL/MariaDB the DATETIME as written, in the time zone of the
 * Directus process (UTC where it runs in UTC, as in containers). Other databases get no per-day summary.
 */
function dayOf(database: Knex): Knex.Raw | null {
	switch (dialectOf(database)) {
		case 'postgres':
			return database.raw(`to_char("timestamp" at time zone 'UTC', 'YYYY-MM-DD')`);
		case 'mysql':
			return database.raw("date_format(`timestamp`, '%Y-%m-%d')");
		case 'sqlite':
			return database.raw(`strftime('%Y-%m-%d', "timestamp" / 1000, 'unixepoch')`);
		default:
			return null;
	}
}

type Row = Record<string, unknown>;
const text = (value: unknown) => (value === null || value === undefined ? null : String(value));

function entryOf(row: Row): AuditEntryAnswer {
	return {
		id: Number(row['id']),
		timestamp: isoOrNull(row['timestamp']),
		route: String(row['route']),
		caller: row['caller'] as AuditEntryAnswer['caller'],
		identity: text(row['identity']),
		identity_name: text(row['identity_name']),
		user: text(row['user']),
		collection: text(row['collection']),
		item: text(row['item']),
		outcome: row['outcome'] as AuditEntryAnswer['outcome'],
		ip: text(row['ip']),
		user_agent: text(row['user_agent']),
	};
}

export async function readAudit(database: Knex, query: AuditQueryInput, now = Date.now()): Promise<AuditAnswerShape> {
	const since = Math.floor(now / DAY_MS) * DAY_MS - (query.days - 1) * DAY_MS;
	const filters = Object.fromEntries((['identity', 'route', 'outcome', 'caller', 'collection', 'item'] as const).flatMap((f) => (query[f] === undefined ? [] : [[f, query[f]]])));
	const base = () => database(AUDIT_COLLECTION).where('timestamp', '>=', new Date(since)).andWhere(filters);
	const day = dayOf(database);

	const [[counted], rows, days, callers, routes] = await Promise.all([
		base().count({ n: '*' }) as Promise<Row[]>,
		base().select(COLUMNS).orderBy('id', 'desc').limit(query.limit).offset((query.page - 1) * query.limit) as Promise<Row[]>,
		day
			? (base()
					.select({ day })
					.sum({ revealed: database.raw(`case when outcome = 'revealed' then 1 else 0 end`) })
					.count({ n: '*' })
					.groupBy(day) as Promise<Row[]>)
			: Promise.resolve(null),
		base().select('caller', 'identity', 'identity_name').count({ n: '*' }).groupBy('caller', 'identity', 'identity_name') as Promise<Row[]>,
		base().select('route').count({ n: '*' }).groupBy('route') as Promise<Row[]>,
	]);

	const perDay = new Map((days ?? []).map((d) => [String(d['day']), { revealed: Number(d['revealed'] ?? 0), all: Number(d['n']) }]));
	const by_day = !days ? [] : Array.from({ length: query.days }, (_, i) => {
		const key = new Date(since + i * DAY_MS).toISOString().slice(0, 10);
		const found = perDay.get(key) ?? { revealed: 0, all: 0 };
		return { day: key, revealed: found.revealed, other: found.all - found.revealed };
	});
	const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
	return {
		entries: rows.map(entryOf),
		total: Number(counted?.['n'] ?? 0),
		page: query.page,
		limit: query.limit,
		summary: {
			since: new Date(since).toISOString(),
			by_day,
			by_caller: callers
				.map((c) => ({ caller: c['caller'] as AuditEntryAnswer['caller'], identity: text(c['identity']), identity_name: text(c['identity_name']), count: Number(c['n']) }))
				.sort(byCount),
			by_route: routes.map((r) => ({ route: String(r['route']), count: Number(r['n']) })).sort(byCount),
		},
	};
}
