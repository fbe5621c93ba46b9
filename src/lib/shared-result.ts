/**
 * One computation for many callers: a call within `freshMs` of the last start gets that run's
 * result (finished or still running) instead of starting another, so a burst of callers costs one
 * run and every answer is at most `freshMs` older than the call. A run that fails is not shared
 * with later callers. The first caller's argument is the one used. `forget()`: the next call starts a
 * run of its own (after a change the caller knows of).
 */
export interface Shared<A, T> {
	(arg: A): Promise<T>;
	forget(): void;
}

export function sharedFor<A, T>(freshMs: number, compute: (arg: A) => Promise<T>, now: () => number = Date.now): Shared<A, T> {
	let last: { startedAt: number; result: Promise<T> } | undefined;
	const shared = (arg: A) => {
		const at = now();
		if (last && at - last.startedAt < freshMs) return last.result;
		const result = compute(arg);
		const run = { startedAt: at, result };
		last = run;
		result.catch(() => {
			if (last === run) last = undefined;
		});
		return result;
	};
	return Object.assign(shared, { forget: () => void (last = undefined) });
}
