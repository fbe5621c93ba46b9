import { createError } from '@directus/errors';

/**
 * Errors the hook raises inside Directus's own write path. They are DirectusErrors, so REST
 * and GraphQL answer with the status and message here, never with a stack or a value.
 */
export const KeysUnavailableError = createError<{ reason: string }>(
	'CREDENTIALS_KEYS_UNAVAILABLE',
	({ reason }) => `${reason}: refusing to store a protected field`,
	500,
);

export const ForeignEnvelopeError = createError<{ field: string }>(
	'CREDENTIALS_FOREIGN_ENVELOPE',
	({ field }) => `Invalid payload. "${field}" holds an encrypted value that does not belong to this row and field.`,
	400,
);

export const PrimaryKeyRequiredError = createError<{ collection: string }>(
	'CREDENTIALS_PRIMARY_KEY_REQUIRED',
	({ collection }) =>
		`Invalid payload. "${collection}" has protected fields and an auto-increment primary key: supply the primary key on create, or use UUID keys.`,
	400,
);

export const PlaintextRefusedError = createError<{ collection: string; field: string; reason: string }>(
	'CREDENTIALS_PLAINTEXT_REFUSED',
	({ collection, field, reason }) =>
		`Refusing to store ${reason} in protected field ${collection}.${field}: only a sealed value under a configured key (or null) may be stored there, and this write skipped Directus's item events. Write through ItemsService with events on.`,
	500,
);

export const KeyNotConfiguredError = createError<{ field: string; keyId: string }>(
	'CREDENTIALS_KEY_NOT_CONFIGURED',
	({ field, keyId }) =>
		`"${field}" holds a value under key ${keyId}, which is not configured: it can be neither checked nor replaced until that key is back in CREDENTIALS_ENC_PREVIOUS_KEYS_B64.`,
	409,
);

export const NestedVersionSecretError = createError<{ collection: string; field: string }>(
	'CREDENTIALS_NESTED_VERSION_SECRET',
	({ collection, field }) =>
		`Invalid payload. A content version cannot carry the protected field ${collection}.${field} of a related item: save it on that item itself.`,
	400,
);

export const DraftUncheckableError = createError<{ reason: string }>(
	'CREDENTIALS_DRAFT_UNCHECKABLE',
	({ reason }) => `Invalid payload. A content version is only saved when every protected field in it can be found and sealed: ${reason}.`,
	400,
);

export const VersionBatchError = createError(
	'CREDENTIALS_VERSION_BATCH',
	'Invalid payload. Protected fields are saved in one content version at a time, each bound to its own item.',
	400,
);

export const KeyCaseConflictError = createError<{ collection: string }>(
	'CREDENTIALS_KEY_CASE_CONFLICT',
	({ collection }) =>
		`Invalid payload. "${collection}" already has a row whose primary key differs from this one only in case: protected values are bound to the key without its case.`,
	400,
);

export const LegacyValueRefusedError = createError<{ field: string }>(
	'CREDENTIALS_LEGACY_REFUSED',
	({ field }) =>
		`Invalid payload. "${field}" holds a value in a legacy encrypted format, which names no key and no row: send the plaintext (it is encrypted for this row). Stored legacy values are moved by \`directus credentials rotate\`.`,
	400,
);
