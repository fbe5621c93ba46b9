import type { z } from 'zod';
import type { KeyHealthAnswer } from '../../contracts/studio.js';

/** The body of GET /credentials/status, as the panel reads it (a type only: no server code reaches the app). */
export type KeyHealthReport = Omit<z.infer<typeof KeyHealthAnswer>, 'success'>;

/** The one-line warning the panel shows when something needs an admin (missing keys are shown apart). */
export function attentionText(report: KeyHealthReport): string | null {
	const sum = (pick: (f: KeyHealthReport['fields'][number]) => number | null) => report.fields.reduce((n, f) => n + (pick(f) ?? 0), 0);
	// Whether values open is known only from `verify`; a field with values it has never checked says so.
	const unverified = report.fields.filter((f) => f.verifiedAt === null && f.rows > f.empty).length;
	const notCurrent = sum((f) => Object.entries(f.byKeyId).reduce((n, [id, count]) => n + (id === report.keys.current ? 0 : count), 0));
	const problems = [
		sum((f) => f.undecryptable) && `${sum((f) => f.undecryptable)} undecryptable`,
		sum((f) => f.plaintext) && `${sum((f) => f.plaintext)} stored unencrypted (Encrypt below, or run \`credentials encrypt-existing\`)`,
		sum((f) => f.legacy) && `${sum((f) => f.legacy)} in a legacy format`,
		sum((f) => f.directusEncrypt) && `${sum((f) => f.directusEncrypt)} still in Directus's encrypt format (run \`credentials adopt-encrypt-special\`)`,
		notCurrent && `${notCurrent} under a previous key`,
		sum((f) => f.earlierBinding) && `${sum((f) => f.earlierBinding)} bound to an earlier spelling of their row's key`,
		unverified && `${unverified === 1 ? '1 field' : `${unverified} fields`} never verified (run \`credentials verify\`)`,
	].filter(Boolean);
	if (problems.length === 0) return null;
	const rotate = sum((f) => f.legacy) || notCurrent || sum((f) => f.earlierBinding) ? ' — `credentials rotate` re-encrypts them under the current key' : '';
	return `Values needing attention: ${problems.join(', ')}${rotate}.`;
}

/** What the panel says after its Encrypt button ran `encrypt-existing` for one field. */
export function encryptedText(field: string, { sealed, remaining }: { sealed: number; remaining: number }): string {
	const done = `Encrypted ${sealed} value${sealed === 1 ? '' : 's'} of ${field}.`;
	return remaining === 0 ? done : `${done} ${remaining} stored unencrypted meanwhile: encrypt again.`;
}

/** The panel's key-hierarchy line: the KEK provider and each wrapped data key's state and KEK; null when keys come from the environment only. */
export function kekText({ kek }: KeyHealthReport): string | null {
	if (!kek.provider && kek.wrapped.length === 0) return null;
	const keys = kek.wrapped.map((k) => `${k.keyId} ${k.state} (KEK ${k.kek}${k.unwrapped ? '' : ', NOT unwrapped here'})`);
	return `Data keys wrapped by a ${kek.provider ?? 'missing'} KEK${kek.token ? ` (token ${kek.token})` : ''}: ${keys.join(', ') || 'none yet (run `credentials keys init`)'}${kek.problem ? `. Problem: ${kek.problem}` : ''}`;
}
