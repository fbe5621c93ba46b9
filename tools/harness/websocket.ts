import type { Instance } from './directus.js';

export type SocketMessage = Record<string, any>;

/**
 * A websocket to Directus kept open: every message it receives, and a way to wait for one. With a
 * token it authenticates first (and fails unless Directus accepts it); without one it stays public.
 */
export async function openSocket(instance: Instance, token?: string, path = '/websocket') {
	const socket = new WebSocket(`${instance.url.replace('http', 'ws')}${path}`);
	const received: SocketMessage[] = [];
	socket.addEventListener('message', (event) => {
		const reply = JSON.parse(String(event.data));
		if (reply.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
		else received.push(reply);
	});
	await new Promise((resolve, reject) => {
		socket.addEventListener('open', resolve);
		socket.addEventListener('error', reject);
	});
	/** The first message not yet taken that matches; waits up to `ms`. */
	const next = (match: (m: SocketMessage) => boolean = () => true, ms = 10_000) =>
		new Promise<SocketMessage>((resolve, reject) => {
			const deadline = Date.now() + ms;
			const take = () => {
				const index = received.findIndex(match);
				if (index >= 0) return resolve(received.splice(index, 1)[0]!);
				if (Date.now() > deadline) return reject(new Error(`no matching websocket message; got ${JSON.stringify(received)}`));
				setTimeout(take, 20);
			};
			take();
		});
	const send = (message: Record<string, unknown>) => socket.send(JSON.stringify(message));
	if (token) {
		send({ type: 'auth', access_token: token });
		const auth = await next();
		if (auth.status !== 'ok') throw new Error(`websocket auth failed: ${JSON.stringify(auth)}`);
	}
	return { send, next, received, close: () => socket.close() };
}

/** One request/response over a fresh socket. */
export async function overWebsocket(instance: Instance, token: string | undefined, message: Record<string, unknown>): Promise<SocketMessage> {
	const socket = await openSocket(instance, token);
	try {
		socket.send({ ...message, uid: 'one' });
		return await socket.next();
	} finally {
		socket.close();
	}
}

/**
 * A GraphQL subscription over Directus's `/graphql` websocket (the graphql-transport-ws protocol):
 * every message received after the subscription started, and a way to end it.
 */
export async function graphqlSubscription(instance: Instance, token: string | undefined, query: string) {
	const socket = new WebSocket(`${instance.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
	const received: SocketMessage[] = [];
	let closed: { code: number; reason: string } | null = null;
	socket.addEventListener('message', (event) => {
		const message = JSON.parse(String(event.data));
		if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
		else received.push(message);
	});
	socket.addEventListener('close', (event) => (closed = { code: event.code, reason: event.reason }));
	await new Promise((resolve, reject) => {
		socket.addEventListener('open', resolve);
		socket.addEventListener('error', reject);
	});
	socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { access_token: token } : {} }));
	const deadline = Date.now() + 10_000;
	while (!closed && !received.some((m) => m.type === 'connection_ack') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
	const acknowledged = received.some((m) => m.type === 'connection_ack');
	if (acknowledged) socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
	return { acknowledged, received, closed: () => closed, close: () => socket.close() };
}
