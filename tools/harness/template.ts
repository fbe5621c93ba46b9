import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../../scripts/local-env.mjs';
import { directusVersion } from './host.js';

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


export function templateName(kind: string, extraFields: string | undefined): string {
	const build = process.env.CREDENTIALS_EXTENSION_BUILD ?? root;
	const hash = createHash('sha256')
		.update(readFileSync(join(build, 'dist', 'api.js')))
		.update(`\0${directusVersion}\0${kind}\0${extraFields ?? ''}`)
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

/** Templates of this database kind unused for this long are dropped: no run takes that long, so none is in use. */
const STALE_MS = 12 * 3600_000;

/**
 * Records a template the database layer has just saved (the marker is written last: a half-saved one
 * is never used), and drops the ones of the same database kind that no run has used for 12 hours.
 */
export async function recordTemplate(template: Template, kind: string, drop: (name: string) => Promise<void>) {
	for (const file of readdirSync(templateDir()).filter((f) => f.endsWith('.json'))) {
		const marker = join(templateDir(), file);
		const other = JSON.parse(readFileSync(marker, 'utf8')) as Template & { kind: string };
		if (other.name === template.name || other.kind !== kind || Date.now() - statSync(marker).mtimeMs < STALE_MS) continue;
		rmSync(marker, { force: true });
		await drop(other.name);
	}
	writeFileSync(markerOf(template.name), JSON.stringify({ ...template, kind }), { mode: 0o600 });
}

/** Marks a template as used now, so that it is not dropped as stale while runs still copy it. */
export function touchTemplate(name: string) {
	const now = new Date();
	utimesSync(markerOf(name), now, now);
}
