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

/** Answers "which protected fields does this collection have?" in O(1) on every write and read. */
export class ProtectedFields {
	private readonly byCollection = new Map<string, string[]>();
	private readonly fieldNames = new Set<string>();

	constructor(refs: readonly FieldRef[]) {
		for (const { collection, field } of refs) {
			const fields = this.byCollection.get(collection) ?? [];
			if (!fields.includes(field)) fields.push(field);
			this.byCollection.set(collection, fields);
			this.fieldNames.add(field);
		}
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
