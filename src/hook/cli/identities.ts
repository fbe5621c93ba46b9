import type { Command } from 'commander';
import { CreateIdentityBody, SERVER_ROUTES, type IdentityViewAnswer } from '../../contracts/identities.js';
import { IDENTITIES_COLLECTION } from '../../schema/collections.js';
import { createIdentity, listIdentities, revokeIdentity } from '../../services/identities.js';
import { run } from './run.js';
import type { CliDeps } from './types.js';

interface CreateOptions {
	name: string;
	routes: string;
	collections?: string;
	platforms?: string;
	services?: string;
	rateLimit?: string;
	expires?: string;
	json?: boolean;
}

const commaList = (value: string | undefined) => (value === undefined ? null : value.split(',').map((v) => v.trim()).filter(Boolean));

async function identitiesTable(deps: CliDeps) {
	if (!(await deps.database.schema.hasTable(IDENTITIES_COLLECTION))) throw new Error('machine identities need `credentials setup` to have run once');
	return deps.database;
}

const describe = (i: IdentityViewAnswer) =>
	`${i.name} (${i.id}): ${i.active ? 'active' : i.revoked_at ? `revoked ${i.revoked_at}` : `expired ${i.expires_at}`}; routes ${i.routes.join(', ')}` +
	`${i.collections ? `; collections ${i.collections.join(', ')}` : ''}${i.platforms ? `; platforms ${i.platforms.join(', ')}` : ''}${i.services ? `; services ${i.services.join(', ')}` : ''}` +
	`${i.rate_limit ? `; ${i.rate_limit} reveals/min` : ''}${i.expires_at && i.active ? `; expires ${i.expires_at}` : ''}; last used ${i.last_used_at ?? 'never'}`;

/** `credentials identities create|list|revoke`: the same service as the admin routes, for operators at a shell. */
export function registerIdentityCommands(credentials: Command, deps: CliDeps) {
	const identities = credentials.command('identities').description('Machine identities: scoped, revocable tokens for the server routes');

	identities
		.command('create')
		.description('Create an identity and print its token (shown once; only its SHA-256 digest is stored)')
		.requiredOption('--name <name>', 'a name the audit shows')
		.requiredOption('--routes <list>', `comma-separated: ${SERVER_ROUTES.join(', ')}`)
		.option('--collections <list>', 'only rows of these collections')
		.option('--platforms <list>', 'only rows whose platform is one of these')
		.option('--services <list>', 'only vault rows of these services')
		.option('--rate-limit <n>', 'reveals per minute, across instances')
		.option('--expires <iso>', 'an ISO 8601 time after which the token answers 401')
		.option('--json', 'print one JSON summary line')
		.action((opts: CreateOptions) =>
			run(deps, opts.json, async () => {
				const parsed = CreateIdentityBody.safeParse({
					name: opts.name,
					routes: commaList(opts.routes),
					collections: commaList(opts.collections),
					platforms: commaList(opts.platforms),
					services: commaList(opts.services),
					rate_limit: opts.rateLimit === undefined ? null : Number(opts.rateLimit),
					expires_at: opts.expires ?? null,
				});
				if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join('; '));
				const created = await createIdentity(await identitiesTable(deps), parsed.data);
				return {
					exitCode: 0,
					summary: { ok: true, identity: created },
					lines: [`✓ created ${describe(created)}`, '', `  token: ${created.token}`, '', '  Shown once: store it where the calling service keeps secrets. Send it in the X-RBAC-SYNC-SECRET header.'],
				};
			}),
		);

	identities
		.command('list')
		.description('Every identity with its scope, expiry, revocation and last use (never a token)')
		.option('--json', 'print one JSON summary line')
		.action((opts: { json?: boolean }) =>
			run(deps, opts.json, async () => {
				const all = await listIdentities(await identitiesTable(deps));
				return { exitCode: 0, summary: { ok: true, identities: all }, lines: all.length ? all.map(describe) : ['no machine identities: server routes take only the shared secret'] };
			}),
		);

	identities
		.command('revoke <identity>')
		.description('Revoke an identity by name or id: its token answers 401 from the next request on, on every instance')
		.option('--json', 'print one JSON summary line')
		.action((identity: string, opts: { json?: boolean }) =>
			run(deps, opts.json, async () => {
				const revoked = await revokeIdentity(await identitiesTable(deps), identity);
				return { exitCode: 0, summary: { ok: true, identity: revoked }, lines: [`✓ revoked ${describe(revoked)}`] };
			}),
		);
}
