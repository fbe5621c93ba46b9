import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { templateDir } from './template.js';

/**
 * The database behind a test instance, read and written directly (as an attacker with a copy of
 * it would): SQLite in the instance's temp dir by default, or a fresh PostgreSQL (HARNESS_DB=postgres)
 * or MariaDB/MySQL (HARNESS_DB=mysql) database per instance, created here and dropped at the end.
 * Tests write SQL with double-quoted identifiers and `?` placeholders; each database gets it so.
 */
export type Param = string | number | null;

export interface TestDatabase {
	kind: DatabaseKind;
	/** Directus's DB_* settings for this database. */
	env: Record<string, string>;
	query<T = Record<string, unknown>>(sql: string, ...params: Param[]): Promise<T[]>;
	execute(sql: string, ...params: Param[]): Promise<void>;
	/** Inserts many rows fast (one transaction on SQLite, multi-row statements on PostgreSQL). */
	insertMany(table: string, rows: Record<string, Param>[]): Promise<void>;
	/** A write transaction on a connection of its own, held open until commit: another writer, racing the one under test. */
	hold(): Promise<HeldTransaction>;
	/** Everything stored, as text: the SQLite file's bytes, or every PostgreSQL table dumped. */
	everything(): Promise<string>;
	/** Copies this database as it stands into the template `name` (see template.ts); nothing may be writing it. */
	saveTemplate(name: string): Promise<void>;
	drop(): Promise<void>;
}

export interface HeldTransaction {
	execute(sql: string, ...params: Param[]): Promise<void>;
	commit(): Promise<void>;
}

export type DatabaseKind = 'sqlite' | 'postgres' | 'mysql';

export const harnessDatabase = (): DatabaseKind => (process.env.HARNESS_DB === 'postgres' || process.env.HARNESS_DB === 'mysql' ? process.env.HARNESS_DB : 'sqlite');

// Counts come back as numbers on both databases.
pg.types.setTypeParser(20, Number);

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' };

const sqliteTemplate = (name: string) => join(templateDir(), `${name}.db`);
/** A SQLite database file and its write-ahead log, if it has one. Throws when `from` is gone. */
const copySqlite = (from: string, to: string) => {
	copyFileSync(from, to);
	if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`);
};

function sqliteDatabase(dir: string, template?: string): TestDatabase {
	const file = join(dir, 'data.db');
	if (template) copySqlite(sqliteTemplate(template), file);
	return {
		kind: 'sqlite',
		env: { DB_CLIENT: 'sqlite3', DB_FILENAME: file },
		async query<T>(sql: string, ...params: Param[]) {
			const db = new DatabaseSync(file, { readOnly: true, timeout: 10_000 });
			try {
				return db.prepare(sql).all(...params) as T[];
			} finally {
				db.close();
			}
		},
		async execute(sql, ...params) {
			const db = new DatabaseSync(file, { timeout: 10_000 });
			try {
				db.prepare(sql).run(...params);
			} finally {
				db.close();
			}
		},
		async insertMany(table, rows) {
			if (rows.length === 0) return;
			const columns = Object.keys(rows[0]!);
			const db = new DatabaseSync(file, { timeout: 10_000 });
			try {
				const insert = db.prepare(`insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`);
				db.exec('begin');
				for (const row of rows) insert.run(...columns.map((c) => row[c] ?? null));
				db.exec('commit');
			} finally {
				db.close();
			}
		},
		async hold() {
			const db = new DatabaseSync(file, { timeout: 10_000 });
			db.exec('begin immediate');
			return {
				execute: async (sql, ...params) => void db.prepare(sql).run(...params),
				commit: async () => {
					db.exec('commit');
					db.close();
				},
			};
		},
		async everything() {
			const files = ['', '-wal', '-journal', '-shm'].map((s) => file + s).filter(existsSync);
			return Buffer.concat(files.map((f) => readFileSync(f))).toString('latin1');
		},
		async saveTemplate(name) {
			rmSync(`${sqliteTemplate(name)}-wal`, { force: true });
			copySqlite(file, sqliteTemplate(name));
		},
		async drop() {
			/* removed with the temp dir */
		},
	};
}

/** `?` placeholders (as the tests write them) to PostgreSQL's `$n`. */
const numbered = (sql: string) => {
	let n = 0;
	return sql.replace(/\?/g, () => `$${++n}`);
};

async function postgresAdmin<T>(work: (client: InstanceType<typeof pg.Client>) => Promise<T>): Promise<T> {
	const admin = new pg.Client({ ...PG, database: 'postgres' });
	await admin.connect();
	try {
		return await work(admin);
	} finally {
		await admin.end();
	}
}

async function postgresDatabase(template?: string): Promise<TestDatabase> {
	const name = `creds_test_${randomBytes(6).toString('hex')}`;
	await postgresAdmin((admin) => admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`));
	const newPool = () => new pg.Pool({ ...PG, database: name, max: 2 });
	let pool = newPool();
	return {
		kind: 'postgres',
		env: { DB_CLIENT: 'pg', DB_HOST: PG.host, DB_PORT: String(PG.port), DB_DATABASE: name, DB_USER: PG.user, DB_PASSWORD: PG.password },
		async query<T>(sql: string, ...params: Param[]) {
			return (await pool.query(numbered(sql), params)).rows as T[];
		},
		async execute(sql, ...params) {
			await pool.query(numbered(sql), params);
		},
		async insertMany(table, rows) {
			if (rows.length === 0) return;
			const columns = Object.keys(rows[0]!);
			for (let i = 0; i < rows.length; i += 1000) {
				const chunk = rows.slice(i, i + 1000);
				const values = chunk.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
				await pool.query(`insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${values}`, chunk.flatMap((row) => columns.map((c) => row[c] ?? null)));
			}
		},
		async hold() {
			const client = new pg.Client({ ...PG, database: name });
			await client.connect();
			await client.query('begin');
			return {
				execute: async (sql, ...params) => void (await client.query(numbered(sql), params)),
				commit: async () => {
					await client.query('commit');
					await client.end();
				},
			};
		},
		async everything() {
			const tables = await pool.query(`select tablename from pg_tables where schemaname = 'public'`);
			const dumps: string[] = [];
			for (const { tablename } of tables.rows) dumps.push(JSON.stringify((await pool.query(`select * from "${tablename}"`)).rows));
			return dumps.join('\n');
		},
		async saveTemplate(template) {
			// CREATE DATABASE … TEMPLATE needs the source idle: this harness's own connections go first.
			await pool.end();
			pool = newPool();
			await postgresAdmin(async (admin) => {
				await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
				await admin.query(`CREATE DATABASE ${template} TEMPLATE ${name}`);
			});
		},
		async drop() {
			await pool.end();
			await postgresAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
		},
	};
}

const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

/** MariaDB/MySQL have no CREATE DATABASE … TEMPLATE: each table's own CREATE TABLE (keys and all), then its rows. */
async function copyMysqlDatabase(from: string, to: string) {
	const admin = await mysql.createConnection({ ...MYSQL, database: from });
	try {
		await admin.query(`DROP DATABASE IF EXISTS ${to}`);
		await admin.query(`CREATE DATABASE ${to} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
		await admin.query(`USE ${to}`);
		await admin.query('SET FOREIGN_KEY_CHECKS = 0');
		const [tables] = await admin.query<mysql.RowDataPacket[]>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'`, [from]);
		for (const { name } of tables) {
			const [[created]] = await admin.query<mysql.RowDataPacket[]>(`SHOW CREATE TABLE \`${from}\`.\`${name}\``);
			await admin.query(created!['Create Table']);
			await admin.query(`INSERT INTO \`${to}\`.\`${name}\` SELECT * FROM \`${from}\`.\`${name}\``);
		}
	} finally {
		await admin.end();
	}
}

async function mysqlDatabase(template?: string): Promise<TestDatabase> {
	const name = `creds_test_${randomBytes(6).toString('hex')}`;
	if (template) await copyMysqlDatabase(template, name);
	else {
		const admin = await mysql.createConnection(MYSQL);
		await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
		await admin.end();
	}
	const pool = mysql.createPool({ ...MYSQL, database: name, connectionLimit: 2, dateStrings: true });
	// Double-quoted identifiers, as the tests write them for SQLite and PostgreSQL.
	pool.pool.on('connection', (connection) => connection.query(`SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')`));
	const rows = async <T>(sql: string, params: Param[]) => (await pool.query(sql, params))[0] as T[];
	return {
		kind: 'mysql',
		env: { DB_CLIENT: 'mysql', DB_HOST: MYSQL.host, DB_PORT: String(MYSQL.port), DB_DATABASE: name, DB_USER: MYSQL.user, DB_PASSWORD: MYSQL.password },
		query: (sql, ...params) => rows(sql, params),
		async execute(sql, ...params) {
			await pool.query(sql, params);
		},
		async insertMany(table, list) {
			if (list.length === 0) return;
			const columns = Object.keys(list[0]!);
			for (let i = 0; i < list.length; i += 1000) {
				const chunk = list.slice(i, i + 1000);
				const values = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
				await pool.query(`insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${values}`, chunk.flatMap((row) => columns.map((c) => row[c] ?? null)));
			}
		},
		async hold() {
			const connection = await mysql.createConnection({ ...MYSQL, database: name });
			await connection.query(`SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')`);
			await connection.query('start transaction');
			return {
				execute: async (sql, ...params) => void (await connection.query(sql, params)),
				commit: async () => {
					await connection.query('commit');
					await connection.end();
				},
			};
		},
		async everything() {
			const tables = await rows<{ name: string }>('select table_name as name from information_schema.tables where table_schema = ?', [name]);
			const dumps: string[] = [];
			for (const table of tables) dumps.push(JSON.stringify(await rows(`select * from "${table.name}"`, [])));
			return dumps.join('\n');
		},
		saveTemplate: (template) => copyMysqlDatabase(name, template),
		async drop() {
			await pool.end();
			const cleanup = await mysql.createConnection(MYSQL);
			await cleanup.query(`DROP DATABASE IF EXISTS ${name}`);
			await cleanup.end();
		},
	};
}

/** Removes a saved template of this run's database kind. */
export async function dropTemplate(name: string) {
	const kind = harnessDatabase();
	if (kind === 'sqlite') for (const s of ['', '-wal']) rmSync(sqliteTemplate(name) + s, { force: true });
	else if (kind === 'postgres') await postgresAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
	else {
		const admin = await mysql.createConnection(MYSQL);
		await admin.query(`DROP DATABASE IF EXISTS ${name}`);
		await admin.end();
	}
}

/** A fresh database, empty or (with `template`) a copy of a saved template. */
export async function createTestDatabase(dir: string, template?: string): Promise<TestDatabase> {
	const kind = harnessDatabase();
	return kind === 'postgres' ? postgresDatabase(template) : kind === 'mysql' ? mysqlDatabase(template) : sqliteDatabase(dir, template);
}
