// The few parts of `pg` (shipped with Directus) that the test harness uses.
declare module 'pg' {
	interface ConnectionOptions {
		host?: string;
		port?: number;
		user?: string;
		password?: string;
		database?: string;
		max?: number;
	}
	interface QueryResult {
		rows: Record<string, any>[];
	}
	class Client {
		constructor(options: ConnectionOptions);
		connect(): Promise<void>;
		query(sql: string, params?: unknown[]): Promise<QueryResult>;
		end(): Promise<void>;
	}
	class Pool {
		constructor(options: ConnectionOptions);
		query(sql: string, params?: unknown[]): Promise<QueryResult>;
		end(): Promise<void>;
	}
	const types: { setTypeParser(oid: number, parse: (value: string) => unknown): void };
	const pg: { Client: typeof Client; Pool: typeof Pool; types: typeof types };
	export default pg;
}
