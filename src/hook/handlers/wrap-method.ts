/**
 * Puts a guard in front of one of Directus's own service methods, at a seam no hook event
 * covers. Directus's original is kept on the prototype under a symbol, so that a reloaded
 * extension wraps the original again rather than its own earlier wrapper.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Method = (this: any, ...args: any[]) => any;

export function wrapMethod(service: { prototype: object } | undefined, name: string, wrap: (original: Method) => Method): boolean {
	const proto = service?.prototype as Record<string | symbol, unknown> | undefined;
	const key = Symbol.for(`directus-extension-credentials:original:${name}`);
	const original = (proto && Object.prototype.hasOwnProperty.call(proto, key) ? proto[key] : proto?.[name]) as Method | undefined;
	if (!proto || typeof original !== 'function') return false;
	proto[key] = original;
	proto[name] = wrap(original);
	return true;
}
