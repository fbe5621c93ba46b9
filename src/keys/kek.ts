import { localKekProvider } from './local-kek.js';
import { openPkcs11Kek } from './pkcs11-kek.js';
import { KekUnavailableError, type KekConfig, type KekProvider } from './provider.js';

export { KekUnavailableError, type KekProvider } from './provider.js';
export { localKekProvider } from './local-kek.js';

/** The provider a configuration names; null when data keys are not wrapped. */
export function kekProviderFor(config: KekConfig): KekProvider | null {
	if (config.kind === 'none') return null;
	if (config.kind === 'invalid') throw new KekUnavailableError(config.error);
	if (config.kind === 'pkcs11') return openPkcs11Kek(config);
	return localKekProvider(config.keks);
}
