import { describe, expect, it } from 'vitest';
import { layerEnv, unsetNames } from '../../scripts/local-env.mjs';

describe('the local instance settings: defaults < .directus/.env < the process environment', () => {
	it('a variable the process sets, even to the empty string, takes nothing from the file, whichever of its two forms either uses', () => {
		const env = layerEnv(
			{ PORT: '8055', HOST: '127.0.0.1' },
			{ PORT: '1', SECRET: 'file', KEY_FILE: '/decoy', TOKEN: 'file', EXTRA: 'file' },
			{ PORT: '9000', SECRET_FILE: '/run/secret', KEY: 'shell', TOKEN: '' },
		);
		expect(env).toEqual({ PORT: '9000', HOST: '127.0.0.1', SECRET_FILE: '/run/secret', KEY: 'shell', TOKEN: '', EXTRA: 'file' });
	});

	it('a secret is unset when neither form holds a value; the key may come from a passphrase instead', () => {
		const wanted = { KEY: 0, SECRET: 0, CREDENTIALS_ENC_KEY_B64: 0 };
		expect(unsetNames({ KEY: '', SECRET_FILE: '/s' }, wanted)).toEqual(['KEY', 'CREDENTIALS_ENC_KEY_B64']);
		// Only Directus reads `_FILE` forms, and only of its own variables: the extension's key has none.
		expect(unsetNames({ KEY_FILE: '/k', SECRET: 's', CREDENTIALS_ENC_KEY_B64_FILE: '/key' }, wanted)).toEqual(['KEY', 'CREDENTIALS_ENC_KEY_B64']);
		expect(unsetNames({ KEY: 'k', SECRET: 's', CREDENTIALS_MASTER_PASSPHRASE: 'p' }, wanted)).toEqual([]);
	});
});
