import { definePanel } from '@directus/extensions-sdk';
import KeyHealth from './key-health.vue';

/** Insights panel for admins: the `credentials status` figures, from GET /credentials/status. */
export default definePanel({
	id: 'credentials-key-health',
	name: 'Credentials key health',
	icon: 'key',
	description: 'Rows per key id, legacy, plaintext and undecryptable values for every protected field (admins).',
	component: KeyHealth,
	options: [],
	// Also the size of a new panel: one field's figures and the key line read without scrolling.
	minWidth: 24,
	minHeight: 16,
});
