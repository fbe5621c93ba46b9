import { describe, expect, it, vi } from 'vitest';
import { effectScope, nextTick, reactive } from 'vue';
import { useSecretField, type SecretFieldProps } from '../../src/app/interface/use-secret-field.js';
import { MASK } from '../../src/lib/mask.js';

/** The Studio field's state without a browser: a fake API that answers field-status, and the values it sends to the form. */
function field(initial: Partial<SecretFieldProps>, status = { set: true, format: 'cred:v2', key_id: 'abcdef01', key_configured: true, decryptable: true, updated_at: null }) {
	const props = reactive<SecretFieldProps>({ value: MASK, collection: 'platform_connections', field: 'encrypted_credentials', primaryKey: 'row-1', type: 'text', kind: null, ...initial });
	const sent: unknown[] = [];
	const asked: unknown[] = [];
	const api = { get: async (_url: string, config: { params: Record<string, unknown> }) => (asked.push(config.params), { data: status }) };
	// A component's setup runs in an effect scope: the field's timers end with it.
	const scope = effectScope();
	const state = scope.run(() => useSecretField(props, (_event, value) => sent.push(value), api))!;
	return { props, sent, asked, state, stop: () => scope.stop() };
}
const settle = async () => {
	await nextTick();
	await new Promise((r) => setTimeout(r, 0));
};

describe('useSecretField', () => {
	it('reads the status, never the value, and says what is stored', async () => {
		const { asked, state } = field({});
		await settle();
		expect(asked).toEqual([{ collection: 'platform_connections', field: 'encrypted_credentials', id: 'row-1' }]);
		expect(state.hasValue.value).toBe(true);
		expect(state.statusText.value).toBe('Set · key abcdef01');
	});

	it('sends a typed value, the mask when the edit is undone, and null for a clear', async () => {
		const { sent, state } = field({});
		await settle();
		state.startReplace();
		state.onTextDraft('new secret');
		state.cancel();
		state.clear();
		expect(sent).toEqual(['new secret', MASK, null]);
	});

	it('never sends JSON that does not parse', async () => {
		const { sent, state } = field({ type: 'json' });
		await settle();
		state.onJsonDraft('{"password": ');
		expect(state.draftError.value).toBeTruthy();
		state.onJsonDraft('{"password": "p"}');
		expect(sent).toEqual([MASK, { password: 'p' }]);
	});

	it('is blocked, with the reason, while the value\'s key is not configured; not otherwise', async () => {
		const { state } = field({}, { set: true, format: 'cred:v2', key_id: 'deadbeef', key_configured: false, decryptable: false, updated_at: null });
		await settle();
		expect(state.blocked.value).toContain('key deadbeef, which is not configured');
		const ok = field({});
		await settle();
		expect(ok.state.blocked.value).toBeNull();
	});

	it('keeps the answer of its latest status read when an earlier one arrives after it', async () => {
		const answers: ((status: object) => void)[] = [];
		const props = reactive<SecretFieldProps>({ value: MASK, collection: 'platform_connections', field: 'encrypted_credentials', primaryKey: 'row-1', type: 'text', kind: null });
		const api = { get: () => new Promise<{ data: unknown }>((resolve) => answers.push((status) => resolve({ data: status }))) };
		const scope = effectScope();
		const state = scope.run(() => useSecretField(props, () => undefined, api))!;
		await settle();
		// A save: the form's value changes twice, each time the status is read again.
		props.value = undefined;
		await settle();
		props.value = null;
		await settle();
		expect(answers).toHaveLength(3);
		const set = { set: true, format: 'cred:v2', key_id: 'abcdef01', key_configured: true, decryptable: true, updated_at: null };
		const cleared = { set: false, format: null, key_id: null, key_configured: null, decryptable: null, updated_at: null };
		answers[2]!(cleared);
		await settle();
		// The read sent before the save committed answers last: it is not taken.
		answers[1]!(set);
		answers[0]!(set);
		await settle();
		expect(state.statusText.value).toBe('Not set');
		scope.stop();
	});

	it('reads the status again after the form is put back, for a save that commits later (Directus 11)', async () => {
		vi.useFakeTimers();
		try {
			let stored: object = { set: true, format: 'cred:v2', key_id: 'abcdef01', key_configured: true, decryptable: true, updated_at: null };
			const props = reactive<SecretFieldProps>({ value: MASK, collection: 'platform_connections', field: 'encrypted_credentials', primaryKey: 'row-1', type: 'text', kind: null });
			const api = { get: async () => ({ data: stored }) };
			const scope = effectScope();
			const state = scope.run(() => useSecretField(props, () => undefined, api))!;
			await vi.advanceTimersByTimeAsync(0);
			state.clear();
			props.value = undefined; // Save clicked: the form is put back before the PATCH commits
			await vi.advanceTimersByTimeAsync(0);
			expect(state.statusText.value).toMatch(/^Set/);
			stored = { set: false, format: null, key_id: null, key_configured: null, decryptable: null, updated_at: null }; // the PATCH commits
			await vi.advanceTimersByTimeAsync(1000);
			expect(state.statusText.value).toBe('Not set');
			scope.stop();
		} finally {
			vi.useRealTimers();
		}
	});

	it('never sends null for "unchanged" while the status is unknown: null would erase the stored secret', async () => {
		const props = reactive<SecretFieldProps>({ value: MASK, collection: 'platform_connections', field: 'encrypted_credentials', primaryKey: 'row-1', type: 'text', kind: null });
		const sent: unknown[] = [];
		const api = { get: async () => Promise.reject(Object.assign(new Error('down'), { response: { status: 503 } })) };
		const scope = effectScope();
		const state = scope.run(() => useSecretField(props, (_event, value) => sent.push(value), api))!;
		await settle();
		expect(state.statusText.value).toBe('Status could not be loaded');
		state.startReplace();
		state.onTextDraft('typed');
		state.onTextDraft('');
		state.cancel();
		expect(sent).toEqual(['typed', MASK, MASK]);
		scope.stop();
	});

	it('asks nothing for a new item', async () => {
		const { asked, state } = field({ primaryKey: '+', value: null });
		await settle();
		expect(asked).toEqual([]);
		expect(state.statusText.value).toBe('Not set');
	});
});
