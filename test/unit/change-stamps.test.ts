import type { SchemaOverview } from '@directus/types';
import { describe, expect, it } from 'vitest';
import { withChangeStamps } from '../../src/protection/codec.js';

const schema = {
	collections: {
		platform_connections: { fields: { encrypted_credentials: {}, credentials_updated_at: {}, credentials_version: {} } },
		api_credentials: { fields: { encrypted_key: {} } },
	},
} as unknown as SchemaOverview;

describe('a write that carries a new secret stamps when the credentials changed, as /store does', () => {
	it('stamps a new plaintext, in a collection with the stamp fields', () => {
		const out = withChangeStamps(schema, 'platform_connections', ['encrypted_credentials'], { encrypted_credentials: '{"p":"new"}' });
		expect(out).toMatchObject({ credentials_version: 'v1', credentials_updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
		expect(Date.now() - Date.parse(out['credentials_updated_at'] as string)).toBeLessThan(5_000);
	});

	it('not for an envelope sent back, a clear, another field, a collection without the fields, or stamps the caller set', () => {
		const envelope = 'cred:v2:0123abcd:AAAA:BBBB';
		for (const [collection, written, payload] of [
			['platform_connections', ['encrypted_credentials'], { encrypted_credentials: envelope }],
			['platform_connections', ['encrypted_credentials'], { encrypted_credentials: null }],
			['platform_connections', [], { platform: 'x' }],
			['api_credentials', ['encrypted_key'], { encrypted_key: 'sk-new' }],
		] as const) {
			expect(withChangeStamps(schema, collection, written, payload)).toBe(payload);
		}
		const explicit = { encrypted_credentials: 'new', credentials_updated_at: '2030-01-01T00:00:00.000Z', credentials_version: 'v9' };
		expect(withChangeStamps(schema, 'platform_connections', ['encrypted_credentials'], explicit)).toEqual(explicit);
	});
});
