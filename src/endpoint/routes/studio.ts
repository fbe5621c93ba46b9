import { EncryptExistingAnswer, EncryptExistingBody, FieldStatusAnswer, FieldStatusQuery, KeyHealthAnswer } from '../../contracts/studio.js';
import { encryptExistingField } from '../../services/encrypt-existing.js';
import { asUser } from '../../services/caller.js';
import { fieldStatus } from '../../services/field-status.js';
import { keyHealthReport } from '../../services/key-health.js';
import { defineRoute } from '../route.js';

/** What the Data Studio's interface, display and key-health panel read: metadata only. */
export const studioRoutes = [
	defineRoute({
		method: 'get',
		path: '/field-status',
		auth: 'user',
		summary: 'Whether a protected field of a row the caller may read is set, its format and key id — never the value',
		input: { from: 'query', schema: FieldStatusQuery },
		response: FieldStatusAnswer,
		handler: async (input, { deps, caller }) => fieldStatus(deps, asUser(caller), input),
	}),
	defineRoute({
		method: 'get',
		path: '/status',
		auth: 'admin',
		summary: 'Key health (admins): the `credentials status` figures per protected field',
		response: KeyHealthAnswer,
		handler: async (_input, { deps }) => keyHealthReport(deps),
	}),
	defineRoute({
		method: 'post',
		path: '/encrypt-existing',
		auth: 'admin',
		summary: "Seal the plaintext values one protected field still holds (admins; the key-health panel's Encrypt button, `credentials encrypt-existing` for one field)",
		input: { from: 'body', schema: EncryptExistingBody },
		response: EncryptExistingAnswer,
		handler: async (input, { deps }) => encryptExistingField(deps, input),
	}),
];
