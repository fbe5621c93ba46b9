import { defineInterface } from '@directus/extensions-sdk';
import SecretInput from './secret-input.vue';

/**
 * For protected fields: shows whether a value is set, when it changed and which key protects it,
 * and lets the user replace or clear it. The stored value is never fetched: reads return the mask,
 * and the status comes from GET /credentials/field-status (metadata only).
 */
export default defineInterface({
	id: 'credentials-secret',
	name: 'Encrypted secret',
	icon: 'key',
	description: 'A write-only secret encrypted by directus-extension-credentials: status, replace and clear, never the value.',
	component: SecretInput,
	types: ['text', 'string', 'json'],
	group: 'standard',
	// The component shows its own state while it reads the status.
	hideLoader: true,
	recommendedDisplays: ['credentials-secret'],
	// The data model shows, above the options, whether saving will protect the field or why it will be refused.
	options: ({ collection, field }) => [
		{
			field: 'protectable',
			name: 'Protection',
			type: 'alias',
			meta: { width: 'full', interface: 'credentials-protectable-notice', options: { targetCollection: collection, targetType: field?.type } },
		},
		{
			field: 'kind',
			name: 'New values are',
			type: 'string',
			meta: {
				width: 'half',
				interface: 'select-dropdown',
				options: {
					choices: [
						{ text: 'A JSON object or array', value: 'json' },
						{ text: 'A single string (password, API key)', value: 'text' },
					],
				},
			},
			schema: { default_value: 'text' },
		},
	],
});
