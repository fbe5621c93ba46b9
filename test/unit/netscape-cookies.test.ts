import { describe, expect, it } from 'vitest';
import { formatNetscapeCookies, parseNetscapeCookies } from '../../src/lib/netscape-cookies.js';

const file = [
	'# Netscape HTTP Cookie File',
	'# This is a generated file! Do not edit.',
	'',
	'.youtube.com\tTRUE\t/\tTRUE\t1767225600\tSID\tsecret-sid-value',
	'#HttpOnly_.youtube.com\tTRUE\t/\tTRUE\t0\tHSID\tsecret-hsid',
	'www.youtube.com\tFALSE\t/watch\tfalse\t1767225600\tPREF\tf1=50000000',
].join('\n');

describe('Netscape cookie files', () => {
	it('parses comments, blank lines, #HttpOnly_ prefixes and flags', () => {
		const result = parseNetscapeCookies(file);
		if (!result.ok) throw new Error(result.error);
		expect(result.cookies).toHaveLength(3);
		expect(result.cookies[0]).toEqual({ domain: '.youtube.com', includeSubdomains: true, path: '/', secure: true, expires: 1767225600, name: 'SID', value: 'secret-sid-value', httpOnly: false });
		expect(result.cookies[1]).toMatchObject({ domain: '.youtube.com', name: 'HSID', httpOnly: true, expires: 0 });
		expect(result.cookies[2]).toMatchObject({ includeSubdomains: false, secure: false, path: '/watch' });
	});

	it('round-trips through format', () => {
		const parsed = parseNetscapeCookies(file);
		if (!parsed.ok) throw new Error(parsed.error);
		const again = parseNetscapeCookies(formatNetscapeCookies(parsed.cookies));
		expect(again).toEqual(parsed);
	});

	it.each([
		['.x.com\tTRUE\t/\tTRUE\t0\tname', 'line 1: expected 7 tab-separated fields, got 6'],
		['.x.com TRUE / TRUE 0 name value', 'line 1: expected 7 tab-separated fields, got 1'],
		['# only comments', 'no cookies found'],
		['', 'no cookies found'],
		['.x.com\tYES\t/\tTRUE\t0\tn\tv', 'line 1: include-subdomains must be TRUE or FALSE'],
		['.x.com\tTRUE\tpath\tTRUE\t0\tn\tv', 'line 1: path must start with /'],
		['.x.com\tTRUE\t/\tmaybe\t0\tn\tv', 'line 1: secure must be TRUE or FALSE'],
		['# c\n.x.com\tTRUE\t/\tTRUE\tsoon\tn\tv', 'line 2: expiry must be a Unix timestamp'],
		['.x.com\tTRUE\t/\tTRUE\t0\t\tv', 'line 1: cookie name is empty'],
	])('rejects %j with a message naming the line, never the value', (input, message) => {
		const result = parseNetscapeCookies(input);
		expect(result.ok).toBe(false);
		if (!result.ok) {
			expect(result.error).toContain(message);
			expect(result.error).not.toContain('value');
		}
	});
});
