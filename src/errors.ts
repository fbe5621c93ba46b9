import { createError } from '@directus/errors';

/**
 * The extension's one error family: @directus/errors classes, so Directus answers them on REST,
 * GraphQL and websockets with their status and message — never a stack or a value.
 *
 * First, the errors the hook raises inside Directus's own write path.
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

/**
 * The routes' own answers, raised by services as DirectusErrors like the hook's: the edge maps any
 * of them to the seed's `{ success: false, error }` with the error's status and message (never a
 * value). The pure crypto core keeps its DecryptError; services map it.
 */
const answer = (code: string, status: number) => createError<{ reason: string }>(code, ({ reason }) => reason, status);

export const NotFoundError = answer('CREDENTIALS_NOT_FOUND', 404);
export const ForbiddenError = answer('CREDENTIALS_FORBIDDEN', 403);
export const UnauthorizedError = answer('CREDENTIALS_UNAUTHORIZED', 401);
export const InvalidInputError = answer('CREDENTIALS_INVALID_INPUT', 400);
export const ConflictError = answer('CREDENTIALS_CONFLICT', 409);
/** A machine identity over its reveals per minute, or an address over its failed sign-ins per minute. */
export const RateLimitedError = answer('CREDENTIALS_RATE_LIMITED', 429);
/** A setting the route needs is missing or unusable (no key, no server secret): the message names it. */
export const NotConfiguredError = answer('CREDENTIALS_NOT_CONFIGURED', 500);
/** A stored value the configured keys cannot open. */
export const UndecryptableError = answer('CREDENTIALS_UNDECRYPTABLE', 500);
/** The audit entry a reveal needs could not be written: nothing is revealed (the cause is logged, not answered). */
export const AuditUnavailableError = answer('CREDENTIALS_AUDIT_UNAVAILABLE', 503);

/** Whether an error is one of the extension's own (an expected answer, not a bug to log). */
export const isOwnError = (error: unknown) => typeof (error as { code?: unknown } | null)?.code === 'string' && (error as { code: string }).code.startsWith('CREDENTIALS_');

export const DirectusEncryptRefusedError = createError<{ field: string }>(
	'CREDENTIALS_DIRECTUS_ENCRYPT_REFUSED',
	({ field }) =>
		`Invalid payload. "${field}" holds a value of Directus's encrypt special, which names no row: send the plaintext (it is encrypted for this row). Stored ones are moved by \`directus credentials adopt-encrypt-special\`.`,
	400,
);

export const FieldNotProtectableError = createError<{ collection: string; field: string; reason: string }>(
	'CREDENTIALS_FIELD_NOT_PROTECTABLE',
	({ collection, field, reason }) => `Invalid payload. ${collection}.${field} cannot be protected: ${reason}.`,
	400,
);

export const ProtectedFieldInUseError = createError<{ collection: string; field: string; sealed: number }>(
	'CREDENTIALS_PROTECTED_FIELD_IN_USE',
	({ collection, field, sealed }) =>
		`${collection}.${field} holds ${sealed} sealed value${sealed === 1 ? '' : 's'}, so it stays protected: un-protecting it would leave them unreadable and let new values be stored in clear. Clear or delete those values first, or decrypt them in place with \`npx directus credentials decrypt-field --field ${collection}.${field} --confirm ${collection}.${field}\` (audited).`,
	409,
);
