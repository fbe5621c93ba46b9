import type { NextFunction, Request, Response } from 'express';
import { MAX_BODY_BYTES } from '../contracts/limits.js';
import { sendError } from './http.js';

/**
 * JSON parsing for /credentials/*, mounted before Directus's own parser (which would answer bad
 * input in its own error shape). Every rejection is a 4xx in the routes' `{ success, error }` shape.
 * Setting `req._body` tells Directus's body-parser that the body is already read.
 */
const MAX_DEPTH = 64;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class BodyTooLarge extends Error {}

function readBody(req: Request, limit: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > limit) {
				req.removeAllListeners('data');
				req.resume(); // drain the rest so the 413 reaches the client
				reject(new BodyTooLarge());
			} else chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

export function credentialsBodyParser(req: Request, res: Response, next: NextFunction) {
	const declared = Number(req.headers['content-length'] ?? 0);
	const hasBody = declared > 0 || req.headers['transfer-encoding'] !== undefined;
	const marked = req as Request & { _body?: boolean };
	if (!hasBody || req.method === 'GET' || req.method === 'HEAD') {
		marked._body = true;
		req.body = {};
		return next();
	}
	if (!req.is('application/json')) return sendError(res, 415, 'Content-Type must be application/json');
	if (declared > MAX_BODY_BYTES) return sendError(res, 413, 'Body too large: the limit is 1 MB');
	readBody(req, MAX_BODY_BYTES).then(
		(raw) => {
			let body: unknown;
			try {
				body = JSON.parse(raw.toString('utf8'));
			} catch {
				return sendError(res, 400, 'Body is not valid JSON');
			}
			const problem = inspect(body, 0);
			if (problem) return sendError(res, 400, problem);
			marked._body = true;
			req.body = body;
			next();
		},
		(error: unknown) => sendError(res, error instanceof BodyTooLarge ? 413 : 400, error instanceof BodyTooLarge ? 'Body too large: the limit is 1 MB' : 'Body could not be read'),
	);
}

/** Rejects prototype-pollution keys and absurd nesting anywhere in the body. */
function inspect(value: unknown, depth: number): string | undefined {
	if (depth > MAX_DEPTH) return `Body is nested deeper than ${MAX_DEPTH} levels`;
	if (!value || typeof value !== 'object') return undefined;
	for (const key of Object.keys(value)) {
		if (FORBIDDEN_KEYS.has(key)) return `Key "${key}" is not allowed`;
		const problem = inspect((value as Record<string, unknown>)[key], depth + 1);
		if (problem) return problem;
	}
	return undefined;
}
