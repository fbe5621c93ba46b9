import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import { DecryptError } from '../crypto/index.js';
import { isOwnError } from '../errors.js';

export interface ErrorBody {
	status: number;
	error: string;
}

interface DirectusLikeError {
	name: 'DirectusError';
	status: number;
	code: string;
	message: string;
}
const isDirectusError = (e: unknown): e is DirectusLikeError =>
	typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'DirectusError';

/** Maps anything thrown below a route to a status and a message that never carries a value. */
export function toErrorBody(error: unknown): ErrorBody {
	if (error instanceof ZodError) return { status: 400, error: describeZodError(error) };
	if (error instanceof DecryptError) return { status: 500, error: `Stored value cannot be decrypted: ${error.message}` };
	if (isDirectusError(error)) {
		// The extension's own answers (services and hook alike) carry their status and message as they are.
		if (isOwnError(error)) return { status: error.status, error: error.message };
		if (error.code === 'FORBIDDEN') return { status: 403, error: 'Forbidden' };
		if (error.code === 'TOKEN_EXPIRED' || error.code === 'INVALID_TOKEN' || error.code === 'INVALID_CREDENTIALS')
			return { status: 401, error: 'Unauthorized' };
		return { status: error.status, error: error.message };
	}
	return { status: 500, error: 'Internal error' };
}

/** The first problem, named by its field path, without echoing the offending value. */
export function describeZodError(error: ZodError): string {
	const issue = error.issues[0];
	if (!issue) return 'Invalid payload';
	const path = issue.path.map(String).join('.');
	return path && !issue.message.includes(path) ? `${path}: ${issue.message}` : issue.message;
}

export function sendError(res: Response, status: number, error: string) {
	res.status(status).json({ success: false, error });
}

const OPERATOR_ERRORS = ['CREDENTIALS_UNDECRYPTABLE', 'CREDENTIALS_AUDIT_UNAVAILABLE'];

/** Express 4 does not catch rejected promises: every async handler goes through here. */
export function asyncRoute(
	handler: (req: Request, res: Response) => Promise<unknown>,
	onUnexpected: (error: unknown) => void,
): RequestHandler {
	return (req: Request, res: Response, _next: NextFunction) => {
		handler(req, res).catch((error: unknown) => {
			const body = toErrorBody(error);
			// Bugs, stored values the keys cannot open and an audit log that cannot be written (an operator must hear of those) are logged; other own answers are not.
			if (body.status >= 500 && (!isOwnError(error) || OPERATOR_ERRORS.includes((error as { code: string }).code))) onUnexpected(error);
			if (!res.headersSent) sendError(res, body.status, body.error);
		});
	};
}

/** Express error middleware: whatever Directus raised before the router, in the routes' shape. */
export function credentialsErrorShape(error: unknown, _req: Request, res: Response, next: NextFunction) {
	if (res.headersSent) return next(error);
	const body = toErrorBody(error);
	sendError(res, body.status, body.error);
}
