/**
 * Netscape cookie files (the format yt-dlp's --cookies reads): one cookie per line,
 * seven tab-separated fields — domain, include-subdomains, path, secure, expiry, name, value.
 * `#` starts a comment, except the `#HttpOnly_` prefix that curl and browsers put on domains.
 * Errors name the line and the field, never a value: the values are secrets.
 */
export interface NetscapeCookie {
	domain: string;
	includeSubdomains: boolean;
	path: string;
	secure: boolean;
	expires: number;
	name: string;
	value: string;
	httpOnly: boolean;
}

export type ParseResult = { ok: true; cookies: NetscapeCookie[] } | { ok: false; error: string };

const HTTP_ONLY = '#HttpOnly_';
const FLAG = /^(TRUE|FALSE)$/i;

export function parseNetscapeCookies(text: string): ParseResult {
	const cookies: NetscapeCookie[] = [];
	const lines = text.split(/\r?\n/);
	for (let i = 0; i < lines.length; i++) {
		let line = lines[i]!;
		const n = i + 1;
		let httpOnly = false;
		if (line.startsWith(HTTP_ONLY)) {
			httpOnly = true;
			line = line.slice(HTTP_ONLY.length);
		} else if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
		const fields = line.split('\t');
		if (fields.length !== 7) return { ok: false, error: `line ${n}: expected 7 tab-separated fields, got ${fields.length}` };
		const [domain, sub, path, secure, expires, name, value] = fields as [string, string, string, string, string, string, string];
		if (!domain) return { ok: false, error: `line ${n}: domain is empty` };
		if (!FLAG.test(sub)) return { ok: false, error: `line ${n}: include-subdomains must be TRUE or FALSE` };
		if (!path.startsWith('/')) return { ok: false, error: `line ${n}: path must start with /` };
		if (!FLAG.test(secure)) return { ok: false, error: `line ${n}: secure must be TRUE or FALSE` };
		if (!/^\d+$/.test(expires)) return { ok: false, error: `line ${n}: expiry must be a Unix timestamp (0 for session cookies)` };
		if (!name) return { ok: false, error: `line ${n}: cookie name is empty` };
		cookies.push({
			domain,
			includeSubdomains: sub.toUpperCase() === 'TRUE',
			path,
			secure: secure.toUpperCase() === 'TRUE',
			expires: Number(expires),
			name,
			value,
			httpOnly,
		});
	}
	if (cookies.length === 0) return { ok: false, error: 'no cookies found: expected lines of 7 tab-separated fields' };
	return { ok: true, cookies };
}

export function formatNetscapeCookies(cookies: readonly NetscapeCookie[]): string {
	const lines = cookies.map((c) =>
		[
			(c.httpOnly ? HTTP_ONLY : '') + c.domain,
			c.includeSubdomains ? 'TRUE' : 'FALSE',
			c.path,
			c.secure ? 'TRUE' : 'FALSE',
			String(c.expires),
			c.name,
			c.value,
		].join('\t'),
	);
	return ['# Netscape HTTP Cookie File', ...lines, ''].join('\n');
}
