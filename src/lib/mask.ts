/** What every read returns for a protected value: the same mask Directus uses for concealed fields. */
export const MASK = '**********';
