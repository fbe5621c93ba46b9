/** A one-line progress bar on stderr, drawn only when it is a terminal. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
	if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
	let last = 0;
	const draw = (done: number, total: number) => {
		const width = 30;
		const ratio = total === 0 ? 1 : done / total;
		const filled = Math.round(ratio * width);
		stream.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${done}/${total} rows`);
	};
	return {
		update(done: number, total: number) {
			const now = Date.now();
			if (now - last < 100 && done < total) return;
			last = now;
			draw(done, total);
		},
		done() {
			stream.write('\n');
		},
	};
}
