import { defineInterface } from '@directus/extensions-sdk';
import IdentityToken from './identity-token.vue';

/**
 * The token of a machine identity, in the Studio's form for credentials_identities: generated in the
 * browser for a new identity and shown once; the hook stores only its SHA-256 digest. System: only the
 * extension's collection uses it.
 */
export default defineInterface({
	id: 'credentials-identity-token',
	name: 'Machine identity token',
	icon: 'badge',
	component: IdentityToken,
	types: ['string'],
	options: null,
	system: true,
});
