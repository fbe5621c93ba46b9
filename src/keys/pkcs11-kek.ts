import { checkUnwrapped } from '../crypto/index.js';
import { requireFromHost } from '../lib/host-require.js';
import { KekUnavailableError, type KekProvider } from './provider.js';

/**
 * The KEK inside a PKCS#11 token (an HSM, a cloud KMS's PKCS#11 library, SoftHSM): found by token label
 * and key label, used through the user PIN, never exported. Data keys are wrapped with the token's AES
 * key wrap with padding (RFC 5649, CKM_AES_KEY_WRAP_PAD), the mechanism hardware and cloud HSMs share:
 * a data key enters the token as a session object only for the wrap, and an unwrap leaves a session
 * object whose value is read once and destroyed. The binding `pkcs11js` is a native addon: an optional
 * peer dependency the Directus project installs when it uses this provider, loaded only then.
 */
export interface Pkcs11Settings {
	module: string;
	tokenLabel: string;
	kekLabel: string;
	pin: string;
}

const PREFIX = 'kwp1:';
/** RFC 5649 of 32 bytes: 40 bytes. */
const WRAPPED_BYTES = 40;

type Handle = Buffer;
type Attribute = { type: number; value?: number | boolean | string | Buffer };
/** The part of pkcs11js used here (its own types are not a dependency of the build). */
interface Pkcs11js {
	PKCS11: new () => Session;
	[constant: string]: unknown;
}
interface Session {
	load(path: string): void;
	C_Initialize(): void;
	C_Finalize(): void;
	C_GetSlotList(tokenPresent: boolean): Handle[];
	C_GetTokenInfo(slot: Handle): { label: string };
	C_OpenSession(slot: Handle, flags: number): Handle;
	C_CloseSession(session: Handle): void;
	C_Login(session: Handle, userType: number, pin: string): void;
	C_Logout(session: Handle): void;
	C_FindObjectsInit(session: Handle, template: Attribute[]): void;
	C_FindObjects(session: Handle, max: number): Handle[];
	C_FindObjectsFinal(session: Handle): void;
	C_CreateObject(session: Handle, template: Attribute[]): Handle;
	C_DestroyObject(session: Handle, object: Handle): void;
	C_GetAttributeValue(session: Handle, object: Handle, template: Attribute[]): Attribute[];
	C_GenerateKey(session: Handle, mechanism: { mechanism: number }, template: Attribute[]): Handle;
	C_WrapKey(session: Handle, mechanism: { mechanism: number }, wrappingKey: Handle, key: Handle, wrapped: Buffer): Buffer;
	C_UnwrapKey(session: Handle, mechanism: { mechanism: number }, unwrappingKey: Handle, wrapped: Buffer, template: Attribute[]): Handle;
}

const INSTALL_HINT = 'the pkcs11 KEK provider needs the pkcs11js package: run `npm install pkcs11js@2` in the Directus project, with the Node.js that runs Directus';

function loadBinding(): Pkcs11js {
	try {
		return requireFromHost<Pkcs11js>('pkcs11js');
	} catch (error) {
		const code = (error as { code?: string }).code;
		if (code === 'MODULE_NOT_FOUND') throw new KekUnavailableError(INSTALL_HINT);
		// Found, but not loadable: built for another Node.js (NODE_MODULE_VERSION) or another platform.
		throw new KekUnavailableError(`${INSTALL_HINT} (it is installed but does not load: rebuild it with \`npm rebuild pkcs11js\` for Node.js ${process.versions.node})`);
	}
}

/** A PKCS#11 return value's name (CKR_PIN_INCORRECT…), never the arguments of the call. */
const ckr = (error: unknown) => /CKR_[A-Z_]+/.exec(error instanceof Error ? error.message : String(error))?.[0] ?? 'an unknown PKCS#11 error';

export interface Pkcs11Kek extends KekProvider {
	/** Makes a non-extractable AES-256 KEK in the token (wrap/unwrap only); refuses a label that exists. */
	generateKek(label: string): Promise<void>;
}

/** Opens the token and logs in; every failure names what is missing (module, token, PIN refused), never the PIN. */
export function openPkcs11Kek(settings: Pkcs11Settings): Pkcs11Kek {
	const lib = loadBinding();
	const c = (name: string) => lib[name] as number;
	const p11 = new lib.PKCS11();
	try {
		p11.load(settings.module);
	} catch {
		throw new KekUnavailableError(`the PKCS#11 module ${settings.module} could not be loaded`);
	}
	try {
		p11.C_Initialize();
	} catch (error) {
		if (ckr(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw new KekUnavailableError(`the PKCS#11 module ${settings.module} did not initialise (${ckr(error)})`);
	}
	const fail = (message: string, retriable = true): never => {
		try {
			p11.C_Finalize();
		} catch {
			/* already finalised */
		}
		throw new KekUnavailableError(message, retriable);
	};
	let session: Handle;
	try {
		const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === settings.tokenLabel);
		if (!slot) return fail(`no token labelled "${settings.tokenLabel}" is present in ${settings.module}`);
		session = p11.C_OpenSession(slot, c('CKF_SERIAL_SESSION') | c('CKF_RW_SESSION'));
	} catch (error) {
		if (error instanceof KekUnavailableError) throw error;
		return fail(`token "${settings.tokenLabel}" could not be opened (${ckr(error)})`);
	}
	try {
		p11.C_Login(session, c('CKU_USER'), settings.pin);
	} catch (error) {
		const why = ckr(error);
		if (why !== 'CKR_USER_ALREADY_LOGGED_IN') {
			// Never tried again by this process: a token locks its PIN after a few wrong tries.
			if (why === 'CKR_PIN_INCORRECT' || why === 'CKR_PIN_LOCKED') return fail(`the PIN for token "${settings.tokenLabel}" was refused (${why})`, false);
			return fail(`login to token "${settings.tokenLabel}" failed (${why})`);
		}
	}
	/** Set when a call says the session or the device is gone: the runtime opens the provider again. */
	let lost = false;
	const LOST = ['CKR_SESSION_HANDLE_INVALID', 'CKR_SESSION_CLOSED', 'CKR_DEVICE_REMOVED', 'CKR_DEVICE_ERROR', 'CKR_TOKEN_NOT_PRESENT', 'CKR_USER_NOT_LOGGED_IN'];

	const mechanism = { mechanism: c('CKM_AES_KEY_WRAP_PAD') };
	const findKeks = (label: string) => {
		p11.C_FindObjectsInit(session, [
			{ type: c('CKA_CLASS'), value: c('CKO_SECRET_KEY') },
			{ type: c('CKA_LABEL'), value: label },
		]);
		try {
			return p11.C_FindObjects(session, 2);
		} finally {
			p11.C_FindObjectsFinal(session);
		}
	};
	const kek = (label: string) => {
		const found = findKeks(label);
		if (found.length === 0) throw new KekUnavailableError(`no key labelled "${label}" on token "${settings.tokenLabel}"`);
		if (found.length > 1) throw new KekUnavailableError(`more than one key labelled "${label}" on token "${settings.tokenLabel}": labels must name one key`);
		return found[0]!;
	};
	/** A data key as a session object: gone when destroyed or when the session ends, never on the token. */
	const dataKeyTemplate = (value?: Buffer): Attribute[] => [
		{ type: c('CKA_CLASS'), value: c('CKO_SECRET_KEY') },
		{ type: c('CKA_KEY_TYPE'), value: c('CKK_AES') },
		{ type: c('CKA_TOKEN'), value: false },
		{ type: c('CKA_SENSITIVE'), value: false },
		{ type: c('CKA_EXTRACTABLE'), value: true },
		...(value ? [{ type: c('CKA_VALUE'), value }] : []),
	];
	const withObject = <T>(handle: Handle, use: (h: Handle) => T): T => {
		try {
			return use(handle);
		} finally {
			p11.C_DestroyObject(session, handle);
		}
	};
	const call = <T>(what: string, run: () => T): T => {
		try {
			return run();
		} catch (error) {
			if (error instanceof KekUnavailableError) throw error;
			if (LOST.includes(ckr(error))) lost = true;
			throw new KekUnavailableError(`${what} failed on token "${settings.tokenLabel}" (${ckr(error)})`);
		}
	};

	return {
		kind: 'pkcs11',
		description: `pkcs11 (token "${settings.tokenLabel}", module ${settings.module})`,
		defaultLabel: settings.kekLabel,
		wrap: async (label, raw) =>
			call(`wrapping under "${label}"`, () => {
				const wrapping = kek(label);
				const wrapped = withObject(p11.C_CreateObject(session, dataKeyTemplate(raw)), (key) => p11.C_WrapKey(session, mechanism, wrapping, key, Buffer.alloc(64)));
				return PREFIX + Buffer.from(wrapped).toString('base64url');
			}),
		unwrap: async (label, wrapped, dataKeyId) =>
			call(`unwrapping data key ${dataKeyId} with "${label}"`, () => {
				if (typeof wrapped !== 'string' || !wrapped.startsWith(PREFIX)) throw new KekUnavailableError(`data key ${dataKeyId} was not wrapped by a PKCS#11 token`);
				const bytes = Buffer.from(wrapped.slice(PREFIX.length), 'base64url');
				if (bytes.length !== WRAPPED_BYTES) throw new KekUnavailableError(`data key ${dataKeyId}: the wrapped form has the wrong length`);
				const unwrapping = kek(label);
				const raw = withObject(p11.C_UnwrapKey(session, mechanism, unwrapping, bytes, dataKeyTemplate()), (key) => {
					const value = p11.C_GetAttributeValue(session, key, [{ type: c('CKA_VALUE') }])[0]!.value as Buffer;
					const copy = Buffer.from(value);
					value.fill(0);
					return copy;
				});
				return checkUnwrapped(raw, dataKeyId);
			}),
		generateKek: async (label) =>
			call(`making the key "${label}"`, () => {
				if (findKeks(label).length > 0) throw new KekUnavailableError(`a key labelled "${label}" is already on token "${settings.tokenLabel}"`);
				p11.C_GenerateKey(session, { mechanism: c('CKM_AES_KEY_GEN') }, [
					{ type: c('CKA_CLASS'), value: c('CKO_SECRET_KEY') },
					{ type: c('CKA_KEY_TYPE'), value: c('CKK_AES') },
					{ type: c('CKA_VALUE_LEN'), value: 32 },
					{ type: c('CKA_LABEL'), value: label },
					{ type: c('CKA_TOKEN'), value: true },
					{ type: c('CKA_PRIVATE'), value: true },
					{ type: c('CKA_SENSITIVE'), value: true },
					{ type: c('CKA_EXTRACTABLE'), value: false },
					{ type: c('CKA_WRAP'), value: true },
					{ type: c('CKA_UNWRAP'), value: true },
					{ type: c('CKA_ENCRYPT'), value: false },
					{ type: c('CKA_DECRYPT'), value: false },
				]);
			}),
		usable: () => !lost,
		close: async () => {
			for (const step of [() => p11.C_Logout(session), () => p11.C_CloseSession(session), () => p11.C_Finalize()]) {
				try {
					step();
				} catch {
					/* closing anyway */
				}
			}
		},
	};
}
