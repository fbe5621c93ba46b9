import { createHash } from 'node:crypto';
import { ForbiddenError } from '@directus/errors';
import type { Accountability, SchemaOverview } from '@directus/types';
import type { Knex } from 'knex';
import type { ProtectedFields } from '../../schema/protected-fields.js';
import { OWNED } from '../../schema/ownership.js';
import { assertOwned } from './owner-guard.js';
import { isRecord, relatedCollection } from './schema-paths.js';

/**
 * Directus 12's collaborative editing rooms (websocket `collab` messages) authorise a join with
 * `validateItemAccess`, which knows nothing of row owners, and broadcast every unsaved field
 * value to the room (holding back only `conceal`/`hash`/`encrypt` specials). Every collab message
 * passes the `websocket.message` filter first, so there: a join on an owned collection is refused
 * unless the caller owns the item, and protected fields are taken out of every change before
 * Directus stores or broadcasts it — at any depth of a relational change.
 */
type Message = Record<string, unknown>;
export interface CollabContext {
	database: Knex;
	schema: SchemaOverview;
	accountability: Accountability | null;
}

const NO_ACCESS = 'No permission to access item or it does not exist';
/** Rooms seen joined on this instance → their collection (`update` messages name only the room). */
const MAX_ROOMS = 10_000;

export class CollabGuard {
	private readonly rooms = new Map<string, string>();

	constructor(private readonly fields: ProtectedFields) {}

	async message(message: Message, ctx: CollabContext): Promise<Message> {
		switch (message['action']) {
			case 'join':
				return this.join(message, ctx);
			case 'update': {
				const collection = this.rooms.get(String(message['room']));
				const field = String(message['field']);
				if (message['changes'] === undefined) return message;
				// A protected field's value never enters the room: the change becomes "unset".
				if (collection ? this.fields.has(collection, field) : this.protectedAnywhere(field)) return { ...message, changes: undefined };
				return collection ? { ...message, changes: this.strip(ctx.schema, relatedCollection(ctx.schema, collection, field), message['changes']) } : message;
			}
			case 'updateAll': {
				const collection = this.rooms.get(String(message['room']));
				return { ...message, changes: this.stripChanges(ctx.schema, collection, message['changes']) };
			}
			default:
				return message;
		}
	}

	private async join(message: Message, ctx: CollabContext): Promise<Message> {
		const collection = String(message['collection']);
		await this.assertMayJoin(collection, message['item'], ctx);
		this.remember(roomHash(collection, message['item'], message['version']), collection);
		return 'initialChanges' in message ? { ...message, initialChanges: this.stripChanges(ctx.schema, collection, message['initialChanges']) } : message;
	}

	private async assertMayJoin(collection: string, item: unknown, ctx: CollabContext): Promise<void> {
		const caller = ctx.accountability;
		if (!OWNED.has(collection) || caller?.admin) return;
		if (!caller?.user || (typeof item !== 'string' && typeof item !== 'number')) throw new ForbiddenError({ reason: NO_ACCESS });
		await assertOwned(ctx.database, ctx.schema, collection, [item], caller.user, NO_ACCESS);
	}

	private remember(room: string, collection: string): void {
		this.rooms.delete(room);
		this.rooms.set(room, collection);
		if (this.rooms.size > MAX_ROOMS) this.rooms.delete(this.rooms.keys().next().value!);
	}

	/** A room this instance never saw joined (an extension reload): any field protected anywhere is held back. */
	private protectedAnywhere(field: string): boolean {
		return this.fields.all().some((ref) => ref.field === field);
	}

	private stripChanges(schema: SchemaOverview, collection: string | undefined, changes: unknown): unknown {
		if (!isRecord(changes)) return changes;
		if (collection) return this.strip(schema, collection, changes);
		return Object.fromEntries(Object.entries(changes).filter(([field]) => !this.protectedAnywhere(field)));
	}

	/** The change without protected fields, following relations (nested rows, `create`/`update` lists). */
	private strip(schema: SchemaOverview, collection: string | null, value: unknown, depth = 0): unknown {
		if (!collection || depth > 16) return value;
		if (Array.isArray(value)) return value.map((v) => this.strip(schema, collection, v, depth + 1));
		if (!isRecord(value)) return value;
		const out: Message = {};
		for (const [key, inner] of Object.entries(value)) {
			if (this.fields.has(collection, key)) continue;
			// Directus's detailed update syntax for relational changes: { create: [], update: [], delete: [] }.
			const isField = !!schema.collections[collection]?.fields[key];
			if (!isField && (key === 'create' || key === 'update')) out[key] = this.strip(schema, collection, inner, depth + 1);
			else out[key] = typeof inner === 'object' && inner !== null ? this.strip(schema, relatedCollection(schema, collection, key), inner, depth + 1) : inner;
		}
		return out;
	}
}

export const isCollabMessage = (message: unknown): message is Message => isRecord(message) && message['type'] === 'collab';

/** Directus's own room id (websocket/collab/room.ts getRoomHash). */
export function roomHash(collection: string, item: unknown, version: unknown): string {
	return createHash('sha256')
		.update([collection, item, version].join('-'))
		.digest('hex');
}
