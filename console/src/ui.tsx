import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import { errorText, type Schemas } from './api/client';
import { href, type Route, withParams } from './router';

export type Me = Schemas['MeResponseDto'];

/** Who is signed in (role decides which actions are shown; the API refuses them anyway). */
export const MeContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside a signed-in page');
  return me;
}

export function useIsAdmin(): boolean {
  return useMe().role === 'admin';
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change; the latest call wins. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error: unknown) => mine === generation.current && setState({ error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Reloads every `intervalMs` while `active`, at most `maxTimes` times (a pending delivery, a received event). */
export function usePoll(active: boolean, reload: () => void, intervalMs = 1000, maxTimes = 60): void {
  const count = useRef(0);
  useEffect(() => {
    if (!active || count.current >= maxTimes) return;
    const timer = setTimeout(() => {
      count.current += 1;
      reload();
    }, intervalMs);
    return () => clearTimeout(timer);
  });
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return `${date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })}`;
}

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {errorText(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="secondary small"
      aria-label={label}
      onClick={() => {
        void copyText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

/** A value shown once (a key, a token, a secret): a read-only field with its label and a copy button. */
export function ShownValue({ label, value, note }: { label: string; value: string; note?: string }) {
  const id = useId();
  return (
    <div class="shown">
      <label for={id}>{label}</label>
      <div class="row">
        <input id={id} class="mono" readOnly value={value} onFocus={(event) => event.currentTarget.select()} />
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
      </div>
      {note && <p class="muted small-text">{note}</p>}
    </div>
  );
}

/** A horizontally scrollable table region, reachable by keyboard. */
export function TableRegion({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

export function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <pre class="json" role="region" aria-label={label} tabIndex={0}>
      {typeof value === 'string' ? value : JSON.stringify(value, null, 2)}
    </pre>
  );
}

const STATUS_TONES: Record<string, string> = {
  delivered: 'good',
  succeeded: 'good',
  processed: 'good',
  enabled: 'good',
  pending: 'wait',
  received: 'wait',
  processing: 'wait',
  failed: 'bad',
  disabled: 'bad',
  ignored: 'neutral',
};

export function Status({ value }: { value: string }) {
  return <span class={`badge ${STATUS_TONES[value] ?? 'neutral'}`}>{value}</span>;
}

/** Cursor paging: the cursor is in the URL, so a page can be linked; "First page" starts over. */
export function Pager({ route, nextCursor }: { route: Route; nextCursor: string | null | undefined }) {
  const onFirst = !route.params.get('cursor');
  if (onFirst && !nextCursor) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {!onFirst && <a href={href(route.path, withParams(route, { cursor: undefined }))}>First page</a>}
      {nextCursor && <a href={href(route.path, withParams(route, { cursor: nextCursor }))}>Next page</a>}
    </nav>
  );
}

export function Field({ label, children, hint }: { label: string; children: (id: string) => ComponentChildren; hint?: string }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id)}
      {hint && <span class="muted small-text">{hint}</span>}
    </div>
  );
}

/** A labelled filter dropdown: "any" (the empty value) first, then the options; reports the chosen value. */
export function SelectFilter({ label, value, any, options, onChange }: {
  label: string;
  value: string;
  any: string;
  options: ReadonlyArray<{ value: string; label: string }>;
  onChange: (value: string) => void;
}) {
  return (
    <Field label={label}>
      {(fieldId) => (
        <select id={fieldId} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">{any}</option>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Runs an action, tracking busy state and its error. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>): { run: (...args: A) => Promise<R | undefined>; busy: boolean; error: unknown; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      return await action(...args);
    } catch (caught) {
      setError(caught);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(null) };
}
