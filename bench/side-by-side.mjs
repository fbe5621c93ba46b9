// `node bench/side-by-side.mjs LABEL this-1.json … -- ref-1.json …`: the mean ratio of each measure in
// two sets of bench/results.json files, and how far this one is from the other (bench/against.sh).
import { readFileSync } from 'node:fs';

const [label, ...files] = process.argv.slice(2);
const split = files.indexOf('--');
const ratios = (paths) => {
	const byMeasure = new Map();
	for (const path of paths)
		for (const row of JSON.parse(readFileSync(path, 'utf8')).rows) {
			if (row.ratio === null) continue;
			// Rotation's row names its row count; the measure is the same whatever the count.
			const measure = row.measure.replace(/[\d,]+ rows/, 'N rows');
			byMeasure.set(measure, [...(byMeasure.get(measure) ?? []), row.ratio]);
		}
	return new Map([...byMeasure].map(([m, rs]) => [m, rs.reduce((a, b) => a + b, 0) / rs.length]));
};
const ours = ratios(files.slice(0, split));
const theirs = ratios(files.slice(split + 1));
console.log(`| Measure | this tree | ${label} | change |\n| --- | --- | --- | --- |`);
for (const [measure, ratio] of ours) {
	const other = theirs.get(measure);
	const change = other ? `${(((ratio - other) / other) * 100).toFixed(1)} %` : '—';
	console.log(`| ${measure} | ${ratio.toFixed(2)} | ${other?.toFixed(2) ?? '—'} | ${change} |`);
}
