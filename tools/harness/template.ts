import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../../scripts/local-env.mjs';

/**
 * A bootstrapped and set-up database, saved once and copied for every later instance that would
 * prepare the same one: bootstrap and `credentials setup` cost about 11 s per instance here, a copy
 * well under one. The template is made by a real `bootstrap` and `setup` of this very build (its
 * name hashes the built extension, the Directus version, the database kind and the extra protected
 * fields), so a copy is exactly what the instance would have prepared itself — but for its admin,
 * which is the template's (kept beside it).
 */
export interface Template {
	name: string;
	admin: { email: string; password: string };
}

export const templateDir = () => {
	const dir = join(tmpdir(), 'creds-directus-templates');
	mkdirSync(dir, { recursive: true });
	return dir;
};

const require = createRequire(import.meta.url);

export function templateName(kind: string, extraFields: string | undefined): string {
	const build = process.env.CREDENTIALS_EXTENSION_BUILD ?? root;
	const hash = createHash('sha256')
		.update(readFileSync(join(build, 'dist', 'api.js')))
		.update(`\0${require('directus/package.json').version}\0${kind}\0${extraFields ?? ''}`)
		.digest('hex');
	return `creds_tmpl_${hash.slice(0, 16)}`;
}

const markerOf = (name: string) => join(templateDir(), `${name}.json`);

/** The saved template of that name, if one was completed. */
export function findTemplate(name: string): Template | undefined {
	try {
		return JSON.parse(readFileSync(markerOf(name), 'utf8')) as Template;
	} catch {
		return undefined;
	}
}

/**
 * Records a template the database layer has just saved, and drops the ones an earlier build left
 * for the same database kind and fields (the marker is written last: a half-saved one is never used).
 */
export async function recordTemplate(template: Template, kind: string, extraFields: string | undefined, drop: (name: string) => Promise<void>) {
	for (const file of readdirSync(templateDir()).filter((f) => f.endsWith('.json'))) {
		const other = JSON.parse(readFileSync(join(templateDir(), file), 'utf8')) as Template & { kind: string; extraFields: string };
		if (other.name === template.name || other.kind !== kind || other.extraFields !== (extraFields ?? '')) continue;
		rmSync(join(templateDir(), file), { force: true });
		await drop(other.name);
	}
	writeFileSync(markerOf(template.name), JSON.stringify({ ...template, kind, extraFields: extraFields ?? '' }), { mode: 0o600 });
}
