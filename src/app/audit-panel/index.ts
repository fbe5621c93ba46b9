import { definePanel } from '@directus/extensions-sdk';
import Reveals from './reveals.vue';

/** Insights panel for admins: the audit of record, from GET /credentials/audit. */
export default definePanel({
	id: 'credentials-reveals',
	name: 'Credential reveals',
	icon: 'policy',
	description: 'Reveals over time, by identity and by route, and the latest entries of the audit, with filters (admins).',
	component: Reveals,
	options: [
		{
			field: 'days',
			name: 'Period',
			type: 'integer',
			meta: {
				width: 'half',
				interface: 'select-dropdown',
				options: { choices: [7, 30, 90, 365].map((n) => ({ text: `Last ${n} days`, value: n })) },
			},
			schema: { default_value: 30 },
		},
	],
	minWidth: 24,
	minHeight: 18,
});
