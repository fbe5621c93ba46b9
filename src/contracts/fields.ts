import { z } from 'zod';

/**
 * Building blocks for the routes' bodies. Messages follow the seed ("creatorProfileId required",
 * "credentials object required") and name the field, never the value.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PLATFORM = /^[A-Za-z0-9_.-]{1,64}$/;

export const uuidField = (name: string) =>
	z.string({ error: `${name} required` }).min(1, `${name} required`).regex(UUID, `${name} must be a UUID`).meta({ format: 'uuid' });

export const platformField = (name = 'platform') =>
	z.string({ error: `${name} required` }).min(1, `${name} required`).regex(PLATFORM, `${name} must be 1-64 letters, digits, ".", "_" or "-"`);

export const optionalText = (name: string, max = 255) =>
	z.string({ error: `${name} must be a string` }).max(max, `${name} is longer than ${max} characters`).nullish();

/** Any JSON object (not an array, null or a string): the seed's "credentials object". */
export const credentialsObject = (name = 'credentials') => z.record(z.string(), z.unknown(), { error: `${name} object required` });

export const isoTimestamp = (name: string) => z.iso.datetime({ offset: true, error: `${name} must be an ISO 8601 timestamp` });

/** Every response that fails: `{ success: false, error }`. */
export const ErrorResponse = z.object({ success: z.literal(false), error: z.string() });
