import { defineInterface } from '@directus/extensions-sdk';
import ProtectableNotice from './protectable-notice.vue';

/**
 * Not for fields: the notice the "Encrypted secret" interface puts among its options in the data model
 * (system: never offered in the interface picker).
 */
export default defineInterface({
	id: 'credentials-protectable-notice',
	name: 'Encrypted secret: can this field be protected?',
	icon: 'key',
	component: ProtectableNotice,
	types: ['alias'],
	localTypes: ['presentation'],
	options: null,
	system: true,
});
