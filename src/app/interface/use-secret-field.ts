import { computed, onScopeDispose, ref, watch } from 'vue';
import { MASK } from '../../lib/mask';
import { blockedText, describeFieldStatus, parseJsonDraft, type FieldStatus, type Tone } from '../shared/status-text';

/**
 * The secret field's state, apart from its rendering: what is stored (read from
 * `/credentials/field-status`, never the value), what the user is editing, and what is sent to
 * the form — the mask for "unchanged", null for "clear", the new value otherwise.
 */
export interface SecretFieldProps {
	value: unknown;
	collection: string;
	field: string;
	primaryKey: string | number | null;
	type: string;
	kind: 'json' | 'text' | null;
}
interface Api {
	get: (url: string, config: { params: Record<string, unknown> }) => Promise<{ data: unknown }>;
}

export function useSecretField(props: SecretFieldProps, emit: (event: 'input', value: unknown) => void, api: Api) {
	const kind = computed(() => props.kind ?? (props.type === 'json' ? 'json' : 'text'));
	const status = ref<FieldStatus | null>(null);
	const loadError = ref<string | null>(null);
	const editing = ref(false);
	const draft = ref('');
	const draftError = ref<string | null>(null);
	const showTyped = ref(false);
	const confirmClear = ref(false);
	const cleared = ref(false);

	const isNewItem = computed(() => props.primaryKey === null || props.primaryKey === '+');
	const isStoredForm = (value: unknown) => value === MASK || value === null || value === undefined;
	/** An edit made in this form and not saved yet: anything but the mask (or nothing) that the read returned. */
	const pending = computed(() => !isStoredForm(props.value));
	const hasValue = computed(() => !cleared.value && (pending.value || status.value?.set === true));

	const summary = computed<{ text: string; tone: Tone }>(() => {
		if (cleared.value) return { text: 'Will be cleared when you save', tone: 'warning' };
		if (pending.value && !draftError.value) return { text: 'New value · encrypted when you save', tone: 'normal' };
		if (loadError.value) return { text: loadError.value, tone: 'warning' };
		if (isNewItem.value) return { text: 'Not set', tone: 'normal' };
		if (!status.value) return { text: 'Checking…', tone: 'normal' };
		return describeFieldStatus(status.value);
	});
	const statusText = computed(() => summary.value.text);
	/** Replace and Clear are refused by the server while the value's key is not configured: disabled, with the reason. */
	const blocked = computed(() => (cleared.value || pending.value ? null : blockedText(status.value)));
	const tone = computed(() => summary.value.tone);
	const icon = computed(() => (tone.value === 'danger' ? 'error' : tone.value === 'warning' ? 'warning' : hasValue.value ? 'lock' : 'lock_open'));

	/**
	 * Reads overlap (a save resets the form twice: Directus 11 first puts the old value back, then the saved
	 * one): only the answer to the latest read counts, or one sent before the save committed could win.
	 */
	let reads = 0;
	async function loadStatus() {
		if (isNewItem.value) return;
		const read = ++reads;
		try {
			const res = await api.get('/credentials/field-status', { params: { collection: props.collection, field: props.field, id: props.primaryKey } });
			if (read !== reads) return;
			status.value = res.data as FieldStatus;
			loadError.value = null;
		} catch (error) {
			if (read !== reads) return;
			const code = (error as { response?: { status?: number } }).response?.status;
			loadError.value = code === 403 || code === 404 ? 'Status not available to you' : 'Status could not be loaded';
		}
	}

	/**
	 * Directus 11 puts the form back when Save is clicked, before the save has committed: a read made then can
	 * answer with what the save replaces. The status is read again once the save has had time to land.
	 */
	const RECHECK_MS = [1000, 4000];
	let rechecks: ReturnType<typeof setTimeout>[] = [];
	function recheckAfterSave() {
		for (const timer of rechecks) clearTimeout(timer);
		rechecks = isNewItem.value ? [] : RECHECK_MS.map((ms) => setTimeout(() => void loadStatus(), ms));
	}

	/**
	 * "Keep what is stored": the mask, which the hook takes as unchanged — null only when the server said the
	 * field is empty. While the status is unknown (not read yet, or its read failed) null would erase the secret.
	 */
	const unchanged = () => (status.value?.set === false ? null : MASK);

	/** What this component last sent to the form: its echo in `value` is not an outside change. */
	const NOTHING = Symbol('nothing');
	let lastEmitted: unknown = NOTHING;
	function send(value: unknown) {
		lastEmitted = value;
		emit('input', value);
	}

	// An outside change — the item loaded, saved (the value returns to the mask) or its edits discarded —
	// resets the editor and reads the status again.
	watch(
		() => [props.primaryKey, props.value] as const,
		([, value], previous) => {
			const keyChanged = previous !== undefined && previous[0] !== props.primaryKey;
			if (!keyChanged && lastEmitted !== NOTHING && value === lastEmitted) return;
			lastEmitted = NOTHING;
			if (!isStoredForm(value)) return;
			editing.value = false;
			draft.value = '';
			draftError.value = null;
			cleared.value = false;
			void loadStatus();
			recheckAfterSave();
		},
		{ immediate: true },
	);

	function startReplace() {
		editing.value = true;
		cleared.value = false;
		draft.value = '';
		draftError.value = null;
	}

	/** Back to what is stored: the form's edit for this field is undone. */
	function cancel() {
		editing.value = false;
		draft.value = '';
		draftError.value = null;
		send(unchanged());
	}

	function onTextDraft(text: string | null) {
		draft.value = text ?? '';
		send(draft.value === '' ? (unchanged()) : draft.value);
	}

	function onJsonDraft(text: string | null) {
		draft.value = text ?? '';
		const parsed = parseJsonDraft(draft.value);
		draftError.value = parsed.ok ? null : parsed.error;
		// Invalid JSON is never sent: the field keeps its stored value until the text parses.
		send(parsed.ok ? parsed.value : unchanged());
	}

	function clear() {
		confirmClear.value = false;
		editing.value = false;
		draft.value = '';
		cleared.value = true;
		send(null);
	}

	/**
	 * A saved clear leaves the form's value where the edit put it (null), so nothing tells this field
	 * that the item was saved and stayed open. While a clear is pending, the status is read again now
	 * and then: once the server says "not set", the clear has been saved.
	 */
	const CLEAR_POLL_MS = 2000;
	let clearPoll: ReturnType<typeof setInterval> | undefined;
	watch(cleared, (pendingClear) => {
		if (clearPoll) clearInterval(clearPoll);
		clearPoll = undefined;
		if (!pendingClear || isNewItem.value) return;
		clearPoll = setInterval(async () => {
			await loadStatus();
			if (cleared.value && status.value?.set === false && props.value === null) {
				cleared.value = false;
				lastEmitted = NOTHING;
			}
		}, CLEAR_POLL_MS);
	});
	onScopeDispose(() => {
		if (clearPoll) clearInterval(clearPoll);
		for (const timer of rechecks) clearTimeout(timer);
	});

	return { kind, status, editing, draft, draftError, showTyped, confirmClear, hasValue, statusText, tone, icon, blocked, startReplace, cancel, onTextDraft, onJsonDraft, clear };
}
