/**
 * How fast `credentials adopt-encrypt-special` moves values off Directus's `encrypt` special, against
 * how fast Directus itself opens them (its own decrypt, one scrypt derivation per value, on the same
 * cores): one figure for the README's "Coming from the encrypt special". Not part of `npm run bench`
 * (CI): run with `npx tsx bench/adopt-rate.ts [rows]` after `npm run build`; TEST_DB picks the database.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
// Directus's own implementation of its special, as installed.
import { decrypt as directusDecrypt, encrypt as directusEncrypt } from '@directus/api/utils/encrypt';
import { client } from '../tools/harness/api.js';
import { startDirectus } from '../tools/harness/directus.js';

const rows = Number(process.argv[2] ?? 2000);
const directus = await startDirectus({ env: { LOG_LEVEL: 'warn' } });
try {
	const api = client(directus);
	const admin = { token: directus.adminToken };
	const collection = 'adopt_rate';
	const id = { field: 'id', type: 'uuid', meta: { special: ['uuid'] }, schema: { is_primary_key: true, length: 36, has_auto_increment: false } };
	await api('POST', '/collections', { ...admin, body: { collection, meta: {}, schema: {}, fields: [id] } });
	await api('POST', `/fields/${collection}`, { ...admin, body: { field: 'api_key', type: 'text', meta: { special: ['encrypt'] }, schema: {} } });
	// Written as Directus writes them (its encrypt, its SECRET), straight into the table: the setup is not what is measured.
	const secret = directus.env.SECRET!;
	const values = await Promise.all(Array.from({ length: rows }, () => directusEncrypt(`sk-${randomBytes(24).toString('hex')}`, secret)));
	await directus.db.insertMany(collection, values.map((api_key) => ({ id: randomUUID(), api_key })));

	let started = performance.now();
	await Promise.all(values.map((value) => directusDecrypt(value, secret)));
	const directusRate = rows / ((performance.now() - started) / 1000);

	started = performance.now();
	const out = await directus.cli(['credentials', 'adopt-encrypt-special', '--json']);
	const wall = (performance.now() - started) / 1000;
	const summary = JSON.parse(out.stdout.trim().split('\n').pop()!);
	if (out.code !== 0 || summary.rewritten !== rows) throw new Error(`adopt failed: ${out.stdout}${out.stderr}`);
	const adoptRate = rows / (summary.durationMs / 1000);
	console.log(
		JSON.stringify({
			database: directus.db.kind,
			cores: cpus().length,
			rows,
			directusDecryptPerSecond: Math.round(directusRate),
			adoptRowsPerSecond: Math.round(adoptRate),
			ratio: Number((adoptRate / directusRate).toFixed(2)),
			commandSeconds: Number(wall.toFixed(1)),
		}),
	);
} finally {
	await directus.stop();
}
