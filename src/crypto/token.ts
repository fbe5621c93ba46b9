import { createHash, randomBytes } from 'node:crypto';

/**
 * Machine-identity tokens: 256 random bits behind a recognisable prefix (so a leaked one is easy to
 * spot in a log or a repository scan). Only the SHA-256 digest is stored: with 256 bits of entropy a
 * slow hash adds nothing, and a database leak hands out no token.
 */
export const TOKEN_PREFIX = 'cid_';
const TOKEN_PATTERN = /^cid_[A-Za-z0-9_-]{43}$/;

export function newIdentityToken(): string {
	return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Whether a string has the shape of a token (not whether one exists). */
export const isIdentityToken = (value: unknown): value is string => typeof value === 'string' && TOKEN_PATTERN.test(value);

/** The stored form: hex SHA-256 of the whole token. */
export function identityTokenHash(token: string): string {
	return createHash('sha256').update(token, 'utf8').digest('hex');
}
