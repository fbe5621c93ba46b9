import { describe, expect, it } from 'vitest';
import type { RevealReport } from '../../src/contracts/reveal-event.js';
import { AuditUnavailableError, ForbiddenError, NotFoundError, UndecryptableError } from '../../src/errors.js';
import type { Caller } from '../../src/services/caller.js';
import type { ServiceDeps } from '../../src/services/deps.js';
import { reporting } from '../../src/services/reveal.js';
import { makeKeyring } from '../../src/crypto/index.js';
import { StandIn } from './stand-in/directus.js';

/** How a reveal ended, as `credentials.reveal` tells it: after the answer (or the failure), never the value. */
const server: Caller = { kind: 'server', user: null, identity: null, ip: '127.0.0.1', userAgent: 'test' };
const event = { route: 'reveal', collection: 'platform_connections', item: 'asked-for' };

/** The audit's insert goes to the stand-in's knex (until setup has made credentials_audit, into directus_activity). */
const auditDatabase = () => new StandIn().deps(makeKeyring(Buffer.alloc(32, 7))).database;

function withReports() {
	const reports: RevealReport[] = [];
	const deps = { reportReveal: (report: RevealReport) => reports.push(report), schema: { collections: {} }, database: auditDatabase() } as unknown as ServiceDeps;
	return { deps, reports };
}

describe('reporting', () => {
	it('reports a revealed row by the key it was found under, once the answer is ready', async () => {
		const { deps, reports } = withReports();
		const answer = await reporting(deps, server, event, async () => {
			expect(reports).toEqual([]);
			return { key: 'Stored-Key', value: 'the secret' };
		});
		expect(answer.value).toBe('the secret');
		expect(reports).toEqual([{ route: 'reveal', collection: 'platform_connections', item: 'Stored-Key', caller: 'server', identity: null, user: null, outcome: 'revealed' }]);
		expect(JSON.stringify(reports)).not.toContain('the secret');
	});

	it('names each failure and passes the error on', async () => {
		const cases: [Error, RevealReport['outcome']][] = [
			[new NotFoundError({ reason: 'Not found' }), 'not-found'],
			[new ForbiddenError({ reason: 'Forbidden' }), 'refused'],
			[new UndecryptableError({ reason: 'no key' }), 'undecryptable'],
			[new AuditUnavailableError({ reason: 'no audit' }), 'failed'],
			[new Error('anything else'), 'failed'],
		];
		for (const [error, outcome] of cases) {
			const { deps, reports } = withReports();
			await expect(reporting(deps, server, event, () => Promise.reject(error))).rejects.toBe(error);
			expect(reports).toEqual([{ ...event, caller: 'server', identity: null, user: null, outcome }]);
		}
	});

	it('reports nothing anywhere when nobody listens', async () => {
		const deps = { schema: { collections: {} }, database: auditDatabase() } as unknown as ServiceDeps;
		expect(await reporting(deps, server, event, async () => ({ key: 'k' }))).toEqual({ key: 'k' });
	});
});
