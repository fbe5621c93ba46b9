import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Marks the calls `credentials setup` makes, so the guards that keep the extension's own tables in
 * shape can let them through. Null accountability alone does not say it: Directus's schema apply runs
 * its services without accountability too, on an admin's request.
 */
const setup = new AsyncLocalStorage<true>();

export const asSetup = <T>(run: () => Promise<T>): Promise<T> => setup.run(true, run);

export const inSetup = (): boolean => setup.getStore() === true;
