import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP endpoint on this machine that keeps the bodies POSTed to it (a stand-in for an alerting webhook). */
export async function webhookReceiver() {
	const received: string[] = [];
	const server = createServer((req, res) => {
		let body = '';
		req.on('data', (chunk) => (body += chunk));
		req.on('end', () => {
			received.push(body);
			res.writeHead(204).end();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return { url: `http://127.0.0.1:${port}/reveal-alert`, received, close: () => server.close() };
}
