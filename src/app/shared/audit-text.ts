/** Words the "Credential reveals" panel shows for audit entries (pure, unit-tested). */
export interface CallerRef {
	caller: 'identity' | 'shared-secret' | 'user';
	identity: string | null;
	identity_name: string | null;
	user?: string | null;
}

export function callerLabel(entry: CallerRef): string {
	if (entry.caller === 'identity') return entry.identity_name ?? `identity ${entry.identity ?? '?'}`;
	if (entry.caller === 'shared-secret') return 'shared secret';
	return entry.user ? `user ${entry.user.slice(0, 8)}` : 'a user';
}

/** The value a caller filter sends: an identity's id, or the kind of caller. */
export const callerFilterOf = (entry: CallerRef) => (entry.caller === 'identity' && entry.identity ? `identity:${entry.identity}` : entry.caller);

/** The query a caller filter value stands for. */
export function callerQuery(value: string): Record<string, string> {
	if (!value) return {};
	return value.startsWith('identity:') ? { identity: value.slice('identity:'.length) } : { caller: value };
}

/** A day's bar: the share of the busiest day, in percent (a day with entries is never drawn at 0). */
export function barHeight(count: number, busiest: number): number {
	if (count <= 0 || busiest <= 0) return 0;
	return Math.max(4, Math.round((count / busiest) * 100));
}

export const pageCount = (total: number, limit: number) => Math.max(1, Math.ceil(total / limit));
