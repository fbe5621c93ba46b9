import type { SchemaOverview } from '@directus/types';

/** The extension's own protected fields; CREDENTIALS_ENCRYPTED_FIELDS adds more. */
export const BUILT_IN_PROTECTED_FIELDS = [
	{ collection: 'platform_connections', field: 'encrypted_credentials' },
	{ collection: 'download_credentials', field: 'encrypted_credentials' },
	{ collection: 'platform_sessions', field: 'encrypted_cookies' },
	{ collection: 'creator_profiles', field: 'credentials' },
	{ collection: 'api_credentials', field: 'encrypted_key' },
] as const;

export interface FieldRef {
	collection: string;
	field: string;
}

/**
 * Directus's SECRET, for the fields whose values may come from Directus's `encrypt` special — never the
 * built-in ones, which the extension protects from the moment it creates them: a value in that format
 * there was planted (copied from another row or from Directus's own settings) and stays unopened.
 */
export function directusSecretFor(ref: FieldRef, secret: string | null): string | null {
	return BUILT_IN_PROTECTED_FIELDS.some((f) => f.collection === ref.collection && f.field === ref.field) ? null : secret;
}

/**
 * Answers "which protected fields does this collection have?" in O(1) on every write and read: the
 * configured ones, and those the data model marks (see field-registry.ts), taken from the newest schema
 * Directus hands any hook — recomputed only when that schema is a new one.
 */
export class ProtectedFields {
	private byCollection = new Map<string, string[]>();
	private fieldNames = new Set<string>();
	private seen: SchemaOverview | null = null;
	private markedSignature = '';

	constructor(
		private readonly configured: readonly FieldRef[],
		private readonly marked: (schema: SchemaOverview) => FieldRef[] = () => [],
	) {
		this.index(configured);
	}

	/** Takes the marked fields of a schema Directus handed over; the same schema again costs nothing. */
	sync(schema: SchemaOverview | null | undefined): this {
		if (!schema || schema === this.seen) return this;
		this.seen = schema;
		const marked = this.marked(schema);
		const signature = marked.map((ref) => `${ref.collection}.${ref.field}`).join(',');
		if (signature !== this.markedSignature) {
			this.markedSignature = signature;
			this.index([...this.configured, ...marked]);
		}
		return this;
	}

	/** Whether the field is protected whatever the data model says (built in, or CREDENTIALS_ENCRYPTED_FIELDS). */
	configuredHas(collection: string, field: string): boolean {
		return this.configured.some((ref) => ref.collection === collection && ref.field === field);
	}

	private index(refs: readonly FieldRef[]) {
		const byCollection = new Map<string, string[]>();
		const fieldNames = new Set<string>();
		for (const { collection, field } of refs) {
			const fields = byCollection.get(collection) ?? [];
			if (!fields.includes(field)) fields.push(field);
			byCollection.set(collection, fields);
			fieldNames.add(field);
		}
		// Swapped whole: a reader never sees half of the new set.
		this.byCollection = byCollection;
		this.fieldNames = fieldNames;
	}

	/** Every protected field's name, whatever its collection: for values whose collection is not known. */
	names(): ReadonlySet<string> {
		return this.fieldNames;
	}

	of(collection: string): readonly string[] {
		return this.byCollection.get(collection) ?? [];
	}

	has(collection: string, field: string): boolean {
		return this.of(collection).includes(field);
	}

	all(): FieldRef[] {
		return [...this.byCollection].flatMap(([collection, fields]) => fields.map((field) => ({ collection, field })));
	}
}
