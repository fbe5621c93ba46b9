import type { Knex } from 'knex';
import type { SchemaOverview } from '@directus/types';
import { COLLECTIONS, INTERNAL_COLLECTIONS, PREVIOUS_SECRET_INTERFACES, SECRET_INTERFACE } from './collections.js';
import { ownerPermissions, POLICY, POLICY_NAME, ROLE, ROLE_NAME, STUDIO_POLICY, STUDIO_POLICY_NAME, type PermissionDef } from './access.js';
import { BUILT_IN_PROTECTED_FIELDS, type FieldRef } from './protected-fields.js';
import { installIndexes } from './indexes.js';
import { withInstallLock } from './install-lock.js';
import { asSetup } from './setup-context.js';
import { isMysql, planStorage, readColumns } from './storage.js';

/* Directus services are passed in by the hook context; typed loosely because @directus/api has no public types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Services = Record<string, any>;

export interface InstallDeps {
	services: Services;
	database: Knex;
	getSchema: (options?: { database?: Knex; bypassCache?: boolean }) => Promise<SchemaOverview>;
}

export interface InstallReport {
	changes: string[];
	warnings: string[];
}

/**
 * Adds whatever of the extension's schema, policy, permissions and role is missing, through
 * Directus's own services; the one raw DDL is MySQL/MariaDB's column types (storage.ts).
 * Idempotent: a second run reports no changes. Runs at once take turns (install-lock.ts); should
 * one still race on a create, it re-reads and finds it done.
 */
export async function installSchema(deps: InstallDeps, extraFields: FieldRef[] = []): Promise<InstallReport> {
	return asSetup(() => withInstallLock(deps.database, async () => {
		for (let attempt = 1; ; attempt++) {
			try {
				return await installOnce(deps, extraFields);
			} catch (error) {
				if (attempt >= 4) throw error;
				await new Promise((r) => setTimeout(r, 250 + Math.random() * 750));
			}
		}
	}));
}

async function installOnce(deps: InstallDeps, extraFields: FieldRef[]): Promise<InstallReport> {
	const report: InstallReport = { changes: [], warnings: [] };
	await installCollections(deps, report);
	await installRelations(deps, report);
	await upgradeStorage(deps, report);
	report.changes.push(...(await installIndexes(deps.database)));
	await upgradeSecretInterfaces(deps, report);
	await checkExtraFields(deps, extraFields, report);
	await unsearchableProtectedFields(deps, extraFields, report);
	await ensureOne(deps, 'PoliciesService', { name: { _eq: STUDIO_POLICY_NAME } }, STUDIO_POLICY, report, `policy "${STUDIO_POLICY_NAME}"`);
	const policyId = await ensureOne(deps, 'PoliciesService', { name: { _eq: POLICY_NAME } }, POLICY, report, `policy "${POLICY_NAME}"`);
	await installPermissions(deps, policyId, report);
	const roleId = await ensureOne(deps, 'RolesService', { name: { _eq: ROLE_NAME } }, ROLE, report, `role "${ROLE_NAME}"`);
	await ensureOne(
		deps,
		'AccessService',
		{ _and: [{ role: { _eq: roleId } }, { policy: { _eq: policyId } }] },
		{ role: roleId, policy: policyId },
		report,
		`policy "${POLICY_NAME}" on role "${ROLE_NAME}"`,
	);
	return report;
}

async function service(deps: InstallDeps, name: string) {
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	return new deps.services[name]({ knex: deps.database, schema, accountability: null });
}

async function installCollections(deps: InstallDeps, report: InstallReport) {
	for (const def of [...COLLECTIONS, ...INTERNAL_COLLECTIONS]) {
		const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
		const existing = schema.collections[def.collection];
		if (!existing) {
			await (await service(deps, 'CollectionsService')).createOne({ collection: def.collection, meta: def.meta, schema: {}, fields: def.fields });
			report.changes.push(`created collection ${def.collection}`);
			continue;
		}
		for (const field of def.fields) {
			if (existing.fields[field.field]) continue;
			await (await service(deps, 'FieldsService')).createField(def.collection, field);
			report.changes.push(`created field ${def.collection}.${field.field}`);
		}
	}
}

async function installRelations(deps: InstallDeps, report: InstallReport) {
	for (const def of COLLECTIONS) {
		for (const rel of def.relations) {
			const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
			if (schema.relations.some((r) => r.collection === def.collection && r.field === rel.field)) continue;
			await (await service(deps, 'RelationsService')).createOne({
				collection: def.collection,
				field: rel.field,
				related_collection: rel.related_collection,
				schema: { on_delete: rel.on_delete },
				meta: { sort_field: null },
			});
			report.changes.push(`created relation ${def.collection}.${rel.field} → ${rel.related_collection}`);
		}
	}
}

/** MySQL/MariaDB only: column types that hold what the routes accept (storage.ts). */
async function upgradeStorage(deps: InstallDeps, report: InstallReport) {
	if (!isMysql(deps.database)) return;
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	const specials = (collection: string, field: string) => schema.collections[collection]?.fields[field]?.special ?? [];
	const plan = planStorage(await readColumns(deps.database), specials);
	for (const alter of plan.alters) {
		await deps.database.raw(alter.sql, alter.bindings);
		report.changes.push(`changed ${alter.change}`);
	}
	const fields = await service(deps, 'FieldsService');
	for (const { collection, field, special } of plan.castTimestamp) {
		await fields.updateField(collection, { field, meta: { special } });
		report.changes.push(`marked ${collection}.${field} as a timestamp stored in a DATETIME column`);
	}
}

/** Protected fields installed before the bundle had its own interface get it; a choice an admin made stays. */
async function upgradeSecretInterfaces(deps: InstallDeps, report: InstallReport) {
	const fields = await service(deps, 'FieldsService');
	for (const def of COLLECTIONS) {
		for (const wanted of def.fields.filter((f) => f.meta?.['interface'] === SECRET_INTERFACE)) {
			const current = await fields.readOne(def.collection, wanted.field);
			if (!PREVIOUS_SECRET_INTERFACES.includes(current?.meta?.interface)) continue;
			const { interface: iface, options, display } = wanted.meta!;
			await fields.updateField(def.collection, { field: wanted.field, meta: { interface: iface, options, display } });
			report.changes.push(`set the ${SECRET_INTERFACE} interface on ${def.collection}.${wanted.field}`);
		}
	}
}

/** Operator-added protected fields must exist and be able to hold an envelope. */
async function checkExtraFields(deps: InstallDeps, extraFields: FieldRef[], report: InstallReport) {
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	for (const { collection, field } of extraFields) {
		const info = schema.collections[collection]?.fields[field];
		if (!info) report.warnings.push(`CREDENTIALS_ENCRYPTED_FIELDS: ${collection}.${field} does not exist`);
		else if (!['text', 'json'].includes(info.type))
			report.warnings.push(`CREDENTIALS_ENCRYPTED_FIELDS: ${collection}.${field} is "${info.type}"; use text or json so an envelope fits`);
	}
}

/**
 * Directus's search matches every searchable text field: a search that reaches a protected one is
 * an oracle (the query guard refuses it). Marked unsearchable, search still works on the others.
 */
async function unsearchableProtectedFields(deps: InstallDeps, extraFields: FieldRef[], report: InstallReport) {
	const schema = await deps.getSchema({ database: deps.database, bypassCache: true });
	const protectedFields = [...BUILT_IN_PROTECTED_FIELDS, ...extraFields];
	for (const { collection, field } of protectedFields) {
		const info = schema.collections[collection]?.fields[field];
		if (!info || info.searchable === false) continue;
		await (await service(deps, 'FieldsService')).updateField(collection, { field, meta: { searchable: false } });
		report.changes.push(`made ${collection}.${field} unsearchable`);
	}
}

async function ensureOne(
	deps: InstallDeps,
	serviceName: string,
	filter: Record<string, unknown>,
	values: Record<string, unknown>,
	report: InstallReport,
	label: string,
): Promise<string> {
	const svc = await service(deps, serviceName);
	const [found] = await svc.readByQuery({ filter, limit: 1, fields: ['id'] });
	if (found) return found.id;
	const id = await svc.createOne(values);
	report.changes.push(`created ${label}`);
	return id;
}

const comparable = (p: Pick<PermissionDef, 'fields' | 'permissions' | 'validation' | 'presets'>) =>
	JSON.stringify([[...(p.fields ?? [])].sort(), p.permissions ?? null, p.validation ?? null, p.presets ?? null]);

async function installPermissions(deps: InstallDeps, policyId: string, report: InstallReport) {
	const svc = await service(deps, 'PermissionsService');
	const existing: (PermissionDef & { id: number })[] = await svc.readByQuery({ filter: { policy: { _eq: policyId } }, limit: -1 });
	for (const wanted of ownerPermissions()) {
		const found = existing.find((p) => p.collection === wanted.collection && p.action === wanted.action);
		if (!found) {
			await svc.createOne({ ...wanted, policy: policyId });
			report.changes.push(`created permission ${wanted.action} ${wanted.collection}`);
		} else if (comparable(found) !== comparable(wanted)) {
			await svc.updateOne(found.id, wanted);
			report.changes.push(`updated permission ${wanted.action} ${wanted.collection}`);
		}
	}
}
