import { classifyStored } from '../../crypto/index.js';
import type { ProtectedFields } from '../../schema/protected-fields.js';

import { MASK } from '../../lib/mask.js';

export { MASK };

type Row = Record<string, unknown>;

/**
 * Replaces protected values with the mask. Top-level protected fields are masked by name
 * (that covers plaintext and legacy values too); anything nested — relations expanded with
 * `fields=*.*`, whose rows never pass their own read filter — is masked when it is ciphertext.
 * Null stays null, so "not set" remains visible.
 */
export function maskRows(fields: ProtectedFields, collection: string, rows: unknown): unknown {
	const own = fields.of(collection);
	const list = Array.isArray(rows) ? rows : [rows];
	for (const row of list) {
		if (!row || typeof row !== 'object') continue;
		for (const [name, value] of Object.entries(row as Row)) {
			if (value === null || value === undefined) continue;
			if (own.includes(name) || isCiphertext(value)) (row as Row)[name] = MASK;
			else if (typeof value === 'object') maskNested(value as Row, 0);
		}
	}
	return rows;
}

function isCiphertext(value: unknown): boolean {
	const { format } = classifyStored(value);
	return format !== 'empty' && format !== 'plaintext';
}

const MAX_DEPTH = 32;

function maskNested(node: Row | unknown[], depth: number): void {
	if (depth > MAX_DEPTH) return;
	const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
	for (const [key, value] of entries) {
		if (value === null || value === undefined) continue;
		if (isCiphertext(value)) (node as Record<string | number, unknown>)[key] = MASK;
		else if (typeof value === 'object') maskNested(value as Row, depth + 1);
	}
}
