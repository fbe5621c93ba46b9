import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * A SoftHSM2 token in files of a test's own (Debian's softhsm2: `.ci/run` installs it): initialised
 * with softhsm2-util, its keys read and deleted through pkcs11js as a vendor's tool would.
 */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
	/** SOFTHSM2_CONF, for every process that opens the token. */
	env: { SOFTHSM2_CONF: string };
	module: string;
	label: string;
	pin: string;
	/** The KEK labels on the token (PKCS#11 CKO_SECRET_KEY objects). */
	keyLabels(): string[];
	/** Deletes a key from the token, as an operator retiring an old KEK would. */
	deleteKey(label: string): void;
	/** Takes the token away (its files moved aside): the slot is empty, as when an HSM is unplugged. */
	remove(): void;
	/** Puts the token back, as it was. */
	restore(): void;
}

export function softHsmToken(dir: string, label = 'creds', pin = randomPin()): SoftHsmToken {
	const tokens = join(dir, 'softhsm-tokens');
	const aside = join(dir, 'softhsm-unplugged');
	mkdirSync(tokens, { recursive: true });
	const conf = join(dir, 'softhsm2.conf');
	writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
	const env = { SOFTHSM2_CONF: conf };
	execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', randomPin()], { env: { ...process.env, ...env }, stdio: 'ignore' });

	/** One session for one job; SOFTHSM2_CONF is read when the module initialises. */
	const withSession = <T>(use: (p11: any, session: Buffer, lib: any) => T): T => {
		const previous = process.env.SOFTHSM2_CONF;
		process.env.SOFTHSM2_CONF = conf;
		const lib = createRequire(import.meta.url)('pkcs11js');
		const p11 = new lib.PKCS11();
		p11.load(SOFTHSM_MODULE);
		p11.C_Initialize();
		try {
			const slot = p11.C_GetSlotList(true).find((s: Buffer) => p11.C_GetTokenInfo(s).label.trim() === label);
			const session = p11.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
			p11.C_Login(session, lib.CKU_USER, pin);
			return use(p11, session, lib);
		} finally {
			p11.C_Finalize();
			if (previous === undefined) delete process.env.SOFTHSM2_CONF;
			else process.env.SOFTHSM2_CONF = previous;
		}
	};
	const find = (p11: any, session: Buffer, lib: any, keyLabel?: string) => {
		p11.C_FindObjectsInit(session, [{ type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY }, ...(keyLabel ? [{ type: lib.CKA_LABEL, value: keyLabel }] : [])]);
		const found = p11.C_FindObjects(session, 100) as Buffer[];
		p11.C_FindObjectsFinal(session);
		return found;
	};
	return {
		env,
		module: SOFTHSM_MODULE,
		label,
		pin,
		keyLabels: () =>
			withSession((p11, session, lib) =>
				find(p11, session, lib).map((h) => String(p11.C_GetAttributeValue(session, h, [{ type: lib.CKA_LABEL }])[0].value)),
			),
		deleteKey: (keyLabel) => withSession((p11, session, lib) => find(p11, session, lib, keyLabel).forEach((h) => p11.C_DestroyObject(session, h))),
		remove: () => {
			mkdirSync(aside, { recursive: true });
			for (const entry of readdirSync(tokens)) renameSync(join(tokens, entry), join(aside, entry));
		},
		restore: () => {
			for (const entry of readdirSync(aside)) renameSync(join(aside, entry), join(tokens, entry));
		},
	};
}

function randomPin() {
	return String(100000 + Math.floor(Math.random() * 900000));
}
