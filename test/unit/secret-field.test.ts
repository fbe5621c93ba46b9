import { describe, expect, it } from 'vitest';
import { effectScope, nextTick, reactive } from 'vue';
import { useSecretField, type SecretFieldProps } from '../../src/app/interface/use-secret-field.js';
import { MASK } from '../../src/lib/mask.js';

/** The Studio field's state without a browser: a fake API that answers field-status, and the values it sends to the form. */
function field(initial: Partial<SecretFieldProps>, status = { set: true, format: 'cred:v2', key_id: 'abcdef01', decryptable: true, updated_at: null }) {
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

	it('asks nothing for a new item', async () => {
		const { asked, state } = field({ primaryKey: '+', value: null });
		await settle();
		expect(asked).toEqual([]);
		expect(state.statusText.value).toBe('Not set');
	});
});
