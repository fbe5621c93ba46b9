// `node bench/by-database.mjs SQLite=a.json PostgreSQL=b.json MariaDB=c.json`: one table with a column per
// database — each measure's ratio against its baseline in that database's run, and the extension's own
// figure and p99 difference beside it — for the README's Performance section.
import { readRows } from './results.mjs';

const runs = process.argv.slice(2).map((arg) => {
	const [label, path] = arg.split('=');
	return { label, ...readRows(path) };
});
// The extension's own figure: its first number and unit ("323 req/s", "20505 rows/s", a latency "97 ms").
const figure = (row) => row.extension.match(/([\d.]+ (?:req|rows|round trips)\/s|^\d+ ms)/)?.[1];
const measures = [...new Set(runs.flatMap((run) => run.rows.map((row) => row.measure)))];
console.log(`| Measure | ${runs.map((r) => r.label).join(' | ')} | Goal |`);
console.log(`| --- | ${runs.map(() => '---').join(' | ')} | --- |`);
for (const measure of measures) {
	const cells = runs.map((run) => {
		const row = run.rows.find((r) => r.measure === measure);
		if (!row) return '—';
		// Rows without a ratio (memory) show their figures: every "N MiB" of the row, in order.
		if (row.ratio === null) return [...`${row.extension} ${row.baseline}`.matchAll(/(\d+) MiB/g)].map((m) => `${m[1]} MiB`).join(' / ') || '—';
		// p99 against the baseline's p99 (reveal's goal names it: within 5 ms).
		const p99 = row.p99DeltaMs === undefined ? '' : `, p99 ${row.p99DeltaMs >= 0 ? '+' : '−'}${Math.abs(row.p99DeltaMs)} ms`;
		const own = figure(row);
		return own ? `${row.ratio.toFixed(2)} (${own}${p99})` : row.ratio.toFixed(2);
	});
	const goal = runs.map((run) => run.rows.find((r) => r.measure === measure)?.goal).find((g) => g != null);
	console.log(`| ${measure} | ${cells.join(' | ')} | ${goal != null ? `≥ ${goal.toFixed(2)}` : 'peer'} |`);
}
const { cores, cpu, node, directus } = runs[0].machine;
console.log(`\n${cores} cores (${cpu}), Node ${node}, Directus ${directus}; ${runs.map((r) => `${r.label} ${r.at.slice(0, 10)}`).join(', ')}.`);
