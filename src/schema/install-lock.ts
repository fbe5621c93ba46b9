import { closeSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import type { Knex } from 'knex';
import { dialectOf } from '../lib/dialect.js';
import { isMysql } from './storage.js';

/** An arbitrary, fixed advisory-lock id (PostgreSQL) and lock name (MariaDB/MySQL) for "credentials setup". */
export const LOCK_ID = 740_512_311;
export const LOCK_NAME = 'directus-extension-credentials:setup';
const WAIT_MS = 600_000;

/**
 * Setups started together take turns, so the policies, role and permissions are created exactly
 * once (they have no unique names to fall back on): PostgreSQL's session advisory lock and
 * MariaDB/MySQL's GET_LOCK, each held on a connection of its own; on SQLite (one host) a lock file
 * beside the database, since each of Directus's reads and writes is its own transaction there.
 */
export async function withInstallLock<T>(db: Knex, body: () => Promise<T>): Promise<T> {
	const dialect = dialectOf(db);
	if (dialect === 'postgres') return withSessionLock(db, 'select pg_advisory_lock(?)', 'select pg_advisory_unlock(?)', LOCK_ID, body);
	if (dialect === 'mysql') return withSessionLock(db, `select get_lock(?, ${WAIT_MS / 1000}) as got`, 'select release_lock(?)', LOCK_NAME, body);
	const filename = (db.client.config.connection as { filename?: string } | undefined)?.filename;
	if (dialect === 'sqlite' && filename && filename !== ':memory:') return withLockFile(`${filename}.credentials-setup.lock`, body);
	return body();
}

async function withSessionLock<T>(db: Knex, lockSql: string, unlockSql: string, key: string | number, body: () => Promise<T>): Promise<T> {
	const connection = await db.client.acquireConnection();
	try {
		const taken = await db.raw(lockSql, [key]).connection(connection);
		// GET_LOCK answers 0 after its timeout rather than throwing.
		if (isMysql(db) && Number(taken?.[0]?.[0]?.got) !== 1) throw new Error('another credentials setup held the lock for 10 minutes');
		try {
			return await body();
		} finally {
			await db.raw(unlockSql, [key]).connection(connection);
		}
	} finally {
		await db.client.releaseConnection(connection);
	}
}

/** Created exclusively, holding its owner's pid; a file whose process is gone (kill -9) is taken over. */
async function withLockFile<T>(file: string, body: () => Promise<T>): Promise<T> {
	const deadline = Date.now() + WAIT_MS;
	for (;;) {
		try {
			const fd = openSync(file, 'wx', 0o600);
			writeSync(fd, String(process.pid));
			closeSync(fd);
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			if (!ownerAlive(file)) {
				rmSync(file, { force: true });
				continue;
			}
			if (Date.now() > deadline) throw new Error(`another credentials setup held ${file} for 10 minutes`);
			await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
		}
	}
	try {
		return await body();
	} finally {
		unlinkSync(file);
	}
}

/**
 * Whether the lock's owner still runs. A file without a pid yet is being written: alive for a few
 * seconds. (Two waiters that both find a dead owner at the same instant could both take over: a
 * window that needs a killed setup and two more started within milliseconds of each other.)
 */
function ownerAlive(file: string): boolean {
	try {
		const text = readFileSync(file, 'utf8');
		const pid = Number(text);
		if (!text || !Number.isInteger(pid) || pid <= 0) return Date.now() - statSync(file).mtimeMs < 5_000;
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// ENOENT: released meanwhile (try again); EPERM: alive under another user.
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
