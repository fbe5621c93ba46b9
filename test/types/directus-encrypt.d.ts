// Directus ships its `encrypt` special's implementation without types; the unit test uses it as Directus does.
declare module '@directus/api/utils/encrypt' {
	export function encrypt(plainText: string, password: string): Promise<string>;
	export function decrypt(encryptedText: string, password: string): Promise<string>;
}
