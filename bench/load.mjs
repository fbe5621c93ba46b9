// The load generator, in a process of its own so it does not share the event loop it measures:
// node bench/load.mjs '<json options>' → one JSON line with throughput and latency.
import autocannon from 'autocannon';

const { uniqueField, ...options } = JSON.parse(process.argv[2]);
// Creates need a fresh value per request (a unique name), so the body is rebuilt for each one.
if (uniqueField) {
	const template = JSON.parse(options.body);
	let n = 0;
	options.requests = [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ ...template, [uniqueField]: `${template[uniqueField] ?? 'u'}-${process.pid}-${n++}` }) }) }];
}
const result = await autocannon(options);
process.stdout.write(
	JSON.stringify({
		requestsPerSecond: result.requests.average,
		p50: result.latency.p50,
		p99: result.latency.p99,
		errors: result.errors + result.timeouts + (result.non2xx ?? 0),
		total: result.requests.total,
	}) + '\n',
);
