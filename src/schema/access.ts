import { COLLECTIONS } from './collections.js';

export const POLICY_NAME = 'Credentials Owner';
export const ROLE_NAME = 'Credentials User';

export const POLICY = {
	name: POLICY_NAME,
	icon: 'key',
	description: 'Create, read, update and delete only your own credential rows (directus-extension-credentials).',
	// No Data Studio access: API users do not occupy one of the core licence's three app seats.
	app_access: false,
	admin_access: false,
	enforce_tfa: false,
	ip_access: null,
} as const;

export const STUDIO_POLICY_NAME = 'Credentials Studio';

/**
 * Data Studio access for the users who should manage their secrets there. Not attached to the
 * role: every user holding it takes one of the licence's app seats (three on the core licence),
 * so an admin attaches it to those users (Users → the user → Policies). It grants no data: the
 * rows still come from Credentials Owner and the owner guard.
 */
export const STUDIO_POLICY = {
	name: STUDIO_POLICY_NAME,
	icon: 'key',
	description: 'Data Studio sign-in for Credentials Users (each holder takes an app seat); data access comes from Credentials Owner.',
	app_access: true,
	admin_access: false,
	enforce_tfa: false,
	ip_access: null,
} as const;

export const ROLE = {
	name: ROLE_NAME,
	icon: 'key',
	description: 'Users who keep platform credentials in Directus.',
} as const;

export type Action = 'create' | 'read' | 'update' | 'delete';
export interface PermissionDef {
	collection: string;
	action: Action;
	fields: string[];
	permissions: Record<string, unknown> | null;
	validation: Record<string, unknown> | null;
	presets: Record<string, unknown> | null;
}

/**
 * Collection-level access only. Directus 12's core licence refuses custom permission rules
 * (row filters such as `$CURRENT_USER`, field lists, validation, presets: ResourceRestrictedError
 * "custom_permission_rules_enabled"), and silently drops such rows when it evaluates access. So
 * the policy grants the four actions on the extension's collections, and the row rule — only
 * your own rows — is enforced by the hook's owner guard for every non-admin accountability.
 */
export function ownerPermissions(): PermissionDef[] {
	const actions: Action[] = ['create', 'read', 'update', 'delete'];
	return COLLECTIONS.flatMap(({ collection }) =>
		actions.map((action) => ({ collection, action, fields: ['*'], permissions: null, validation: null, presets: null })),
	);
}
