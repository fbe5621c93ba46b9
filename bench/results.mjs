// Reading bench/results.json files for the side-by-side tables (bench/side-by-side.mjs, bench/by-database.mjs).
import { readFileSync } from 'node:fs';

/** The rows of one results file, each measure named the same whatever its row count (rotation names it). */
export function readRows(path) {
	const { machine, at, rows } = JSON.parse(readFileSync(path, 'utf8'));
	return { machine, at, rows: rows.map((row) => ({ ...row, measure: row.measure.replace(/[\d,]+ rows/, 'N rows') })) };
}

/** Each measure's ratios over several results files (measures without a ratio left out). */
export function ratiosByMeasure(paths) {
	const byMeasure = new Map();
	for (const path of paths)
		for (const row of readRows(path).rows) {
			if (row.ratio === null) continue;
			byMeasure.set(row.measure, [...(byMeasure.get(row.measure) ?? []), row.ratio]);
		}
	return byMeasure;
}
