import type { Accountability, SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import { OWNED } from '../../schema/ownership.js';
import { assertOwned } from './owner-guard.js';
import { isRecord } from './schema-paths.js';
import { wrapMethod } from './wrap-method.js';

/**
 * Websocket subscriptions (REST `subscribe` messages and GraphQL `<collection>_mutated`) re-read
 * created and updated rows with the subscriber's accountability, so the owner guard applies — but
 * a `delete` event sends the deleted keys as they are, to every subscriber of the collection, and
 * a REST subscription to one item with an `event` never reads it. So: a subscription to one item
 * of an owned collection needs its owner, and a delete event on an owned collection reaches a
 * non-admin subscriber only with the keys of rows that were theirs.
 *
 * Delete events are sent by Directus without any hook, so the check sits where they leave: the
 * `send` of Directus's websocket clients (ws's WebSocket). Who owned a deleted row is recorded just
 * before the delete; a delete made on another instance (several instances behind Redis) is unknown
 * here, and its keys are withheld rather than guessed.
 */
type Message = Record<string, unknown>;
interface Client {
	uid?: string;
	accountability?: Accountability | null;
	send: (data: unknown, ...rest: unknown[]) => unknown;
}

const RECORD_MS = 60_000;

export class SubscriptionGuard {
	/** `collection\0key` → the owner the row had when it was deleted. */
	private readonly deleted = new Map<string, { owner: unknown; at: number }>();
	/** Per client: subscription uid → collection. */
	private readonly subscriptions = new WeakMap<Client, Map<string, string>>();

	async onSubscribe(message: Message, client: Client, database: Knex, schema: SchemaOverview): Promise<Message> {
		const collection = String(message['collection']);
		const caller = client.accountability;
		if (OWNED.has(collection) && !caller?.admin && 'item' in message) await assertOwned(database, schema, collection, [String(message['item'])], caller?.user ?? null);
		let mine = this.subscriptions.get(client);
		if (!mine) this.subscriptions.set(client, (mine = new Map()));
		mine.set(uidOf(message['uid']), collection);
		return message;
	}

	/** Before a delete on an owned collection: who owned each row. */
	async beforeDelete(collection: string, keys: (string | number)[], database: Knex, schema: SchemaOverview | null): Promise<void> {
		const owned = OWNED.get(collection);
		if (!owned || keys.length === 0) return;
		const pk = schema?.collections[collection]?.primary ?? 'id';
		const rows = (await database(collection).select(pk, owned.ownerField).whereIn(pk, keys.map(String))) as Record<string, unknown>[];
		const now = Date.now();
		// Oldest first (a key recorded again is moved to the end), so expiry stops at the first fresh entry.
		for (const [key, value] of this.deleted) {
			if (now - value.at <= RECORD_MS) break;
			this.deleted.delete(key);
		}
		for (const row of rows) {
			const key = `${collection}\0${String(row[pk])}`;
			this.deleted.delete(key);
			this.deleted.set(key, { owner: row[owned.ownerField], at: now });
		}
	}

	/** The outgoing message as this client may see it; null to send nothing. */
	outgoing(client: Client, data: unknown): unknown {
		if (client.accountability?.admin || typeof data !== 'string' || !data.includes('"delete"')) return data;
		if (data.startsWith('{"type":"subscription","event":"delete"')) return this.restDelete(client, data);
		if (data.includes('"type":"next"') && data.includes('_mutated"')) return this.graphqlDelete(client, data);
		return data;
	}

	/** `{"type":"subscription","event":"delete","data":[keys],"uid":…}` */
	private restDelete(client: Client, data: string): string | null {
		const message = JSON.parse(data) as Message;
		if (!Array.isArray(message['data'])) return data;
		// A subscription this instance did not see made (an extension reload) is treated as one on an owned collection.
		const collection = this.subscriptions.get(client)?.get(uidOf(message['uid']));
		if (collection && !OWNED.has(collection)) return data;
		const keys = message['data'].filter((key) => collection && this.wasOwnedBy(collection, key, client));
		return keys.length === 0 ? null : JSON.stringify({ ...message, data: keys });
	}

	/** graphql-ws: `{"id":…,"type":"next","payload":{"data":{"<collection>_mutated":{"key":…,"event":"delete",…}}}}` */
	private graphqlDelete(client: Client, data: string): string | null {
		const message = JSON.parse(data) as { type?: string; payload?: { data?: Record<string, unknown> } };
		const fields = message.type === 'next' && isRecord(message.payload?.data) ? Object.entries(message.payload.data) : [];
		for (const [field, value] of fields) {
			if (!field.endsWith('_mutated') || !isRecord(value) || value['event'] !== 'delete') continue;
			const collection = field.slice(0, -'_mutated'.length);
			if (OWNED.has(collection) && !this.wasOwnedBy(collection, value['key'], client)) return null;
		}
		return data;
	}

	private wasOwnedBy(collection: string, key: unknown, client: Client): boolean {
		const user = client.accountability?.user ?? null;
		return user !== null && this.deleted.get(`${collection}\0${String(key)}`)?.owner === user;
	}

	/** Puts the check on every send of ws's WebSocket (REST and GraphQL websockets alike). */
	guardSends(WebSocket: { prototype: object } | undefined): boolean {
		return wrapMethod(WebSocket, 'send', (original) => {
			const guard = this;
			return function (this: Client, data: unknown, ...rest: unknown[]) {
				const allowed = guard.outgoing(this, data);
				if (allowed !== null) return original.call(this, allowed, ...rest);
				// Nothing to send: a completion callback (ws's last argument) still hears that all went well.
				const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
				done?.();
				return undefined;
			};
		});
	}
}

const uidOf = (uid: unknown) => (uid === undefined || uid === null ? '' : String(uid));

export const isSubscribeMessage = (message: unknown): message is Message => isRecord(message) && message['type'] === 'subscribe';
