import type { z } from 'zod';
import type { Caller } from '../services/caller.js';
import type { ServiceDeps } from '../services/deps.js';
import type { AuthKind } from './auth.js';

export interface RouteContext {
	deps: ServiceDeps;
	caller: Caller;
}

/** One route: its contract (used for the OpenAPI document too) and its thin handler. */
export interface RouteDef<I extends z.ZodType = z.ZodType> {
	method: 'get' | 'post' | 'delete';
	path: string;
	auth: AuthKind;
	summary: string;
	/** What the handler receives, and where it comes from. */
	input?: { from: 'body' | 'query' | 'params'; schema: I };
	response: z.ZodType;
	status?: number;
	handler: (input: z.infer<I>, ctx: RouteContext) => Promise<unknown>;
}

/** Keeps the input's inferred type flowing into the handler. */
export const defineRoute = <I extends z.ZodType>(def: RouteDef<I>): RouteDef => def as unknown as RouteDef;
