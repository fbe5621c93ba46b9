import { defineDisplay } from '@directus/extensions-sdk';
import SecretDisplay from './secret-display.vue';

/**
 * For list and card views: "Set" or "Not set", never the value (reads return the mask anyway).
 * Directus hands a display only the field's value — not the row's key — so the per-row key id
 * and format are shown by the interface on the item page and counted by the key-health panel.
 */
export default defineDisplay({
	id: 'credentials-secret',
	name: 'Encrypted secret',
	icon: 'key',
	description: 'Shows whether a secret protected by directus-extension-credentials is set, never its value.',
	component: SecretDisplay,
	types: ['text', 'string', 'json'],
	options: null,
	handler: (value: unknown) => (value === null || value === undefined || value === '' ? 'Not set' : 'Set'),
});
