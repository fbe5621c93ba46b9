// `node bench/side-by-side.mjs LABEL this-1.json … -- ref-1.json …`: the mean ratio of each measure in
// two sets of bench/results.json files (with the range over the runs, to see the noise), and how far
// this one is from the other (bench/against.sh).
import { ratiosByMeasure } from './results.mjs';

const [label, ...files] = process.argv.slice(2);
const split = files.indexOf('--');
const ours = ratiosByMeasure(files.slice(0, split));
const theirs = ratiosByMeasure(files.slice(split + 1));
const mean = (rs) => rs.reduce((a, b) => a + b, 0) / rs.length;
const cell = (rs) => `${mean(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})`;
console.log(`| Measure | this tree: mean (range) | ${label}: mean (range) | change of the mean |\n| --- | --- | --- | --- |`);
for (const [measure, rs] of ours) {
	const other = theirs.get(measure);
	const change = other ? `${(((mean(rs) - mean(other)) / mean(other)) * 100).toFixed(1)} %` : '—';
	console.log(`| ${measure} | ${cell(rs)} | ${other ? cell(other) : '—'} | ${change} |`);
}
