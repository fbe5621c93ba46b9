import { randomBytes } from 'node:crypto';
import type { Instance } from './directus.js';

export interface ApiResponse<T = any> {
	status: number;
	body: T;
	text: string;
	headers: Headers;
}

export interface RequestOptions {
	token?: string;
	body?: unknown;
	headers?: Record<string, string>;
	/** Send this string as the body instead of JSON-encoding `body`. */
	raw?: string;
}

/** A small REST client for one instance; every response keeps its raw text for leak checks. */
export function client(instance: Instance) {
	return async function api<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
		const headers: Record<string, string> = { ...options.headers };
		if (options.token) headers['authorization'] = `Bearer ${options.token}`;
		let body: string | undefined = options.raw;
		if (body === undefined && options.body !== undefined) {
			body = JSON.stringify(options.body);
			headers['content-type'] ??= 'application/json';
		}
		const res = await fetch(`${instance.url}${path}`, { method, headers, body });
		const text = await res.text();
		let parsed: unknown = text;
		try {
			parsed = text ? JSON.parse(text) : null;
		} catch {
			/* not JSON */
		}
		return { status: res.status, body: parsed as T, text, headers: res.headers };
	};
}

/** A user with the Credentials User role and a static token (API only: no app seat). */
export async function createCredentialsUser(instance: Instance, name: string) {
	const api = client(instance);
	const roles = await api('GET', `/roles?filter[name][_eq]=${encodeURIComponent('Credentials User')}`, { token: instance.adminToken });
	const role = roles.body.data[0]?.id;
	if (!role) throw new Error('Credentials User role missing: setup did not run');
	const token = randomBytes(24).toString('hex');
	const email = `${name}-${randomBytes(3).toString('hex')}@example.com`;
	const password = randomBytes(12).toString('hex');
	const created = await api('POST', '/users', { token: instance.adminToken, body: { email, password, role, token } });
	if (created.status !== 200) throw new Error(`user create failed: ${created.text}`);
	return { id: created.body.data.id as string, token, role: role as string, email, password };
}
