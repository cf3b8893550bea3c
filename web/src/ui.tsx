// Small pieces shared by the pages.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { json } from "./format";

export function Status({ status }: { status: string }): JSX.Element {
  return <span class={`status s-${status}`}>{status.replace("_", " ")}</span>;
}

export function ErrorNote({ error }: { error: unknown }): JSX.Element | null {
  if (!error) return null;
  const msg = error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error);
  return (
    <p class="error-note" role="alert">
      {msg}
    </p>
  );
}

export function Json({ value, label }: { value: unknown; label: string }): JSX.Element {
  const text = json(value);
  return (
    <pre class="json" tabIndex={0} aria-label={label}>
      {text === "" || text === "null" ? <span class="muted">null</span> : text}
    </pre>
  );
}

export function Section(props: { title: string; children: ComponentChildren; actions?: ComponentChildren; id?: string }): JSX.Element {
  return (
    <section class="card" aria-labelledby={props.id}>
      <div class="card-head">
        <h2 id={props.id}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

/**
 * Loads with `load` now and every `everyMs` while `keepGoing(data)` holds (and the tab is shown);
 * `reload` loads again at once.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], everyMs = 0, keepGoing: (d: T) => boolean = () => true) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const tick = useRef(0);
  const [nonce, setNonce] = useState(0);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const my = ++tick.current;
    const once = async () => {
      try {
        const d = await load(ac.signal);
        if (ac.signal.aborted || my !== tick.current) return;
        setData(d);
        setError(null);
        setLoading(false);
        if (everyMs > 0 && keepGoing(d)) timer = setTimeout(once, everyMs);
      } catch (err) {
        if (ac.signal.aborted) return;
        setError(err);
        setLoading(false);
        if (everyMs > 0) timer = setTimeout(once, Math.max(everyMs, 5000));
      }
    };
    void once();
    return () => {
      ac.abort();
      if (timer) clearTimeout(timer);
    };
  }, [...deps, nonce]);
  return { data, error, loading, reload, setData };
}

/** A button that runs an async action, disabled while it runs, showing its error. */
export function ActionButton(props: { onClick: () => Promise<unknown>; children: ComponentChildren; class?: string; label?: string; disabled?: boolean }): JSX.Element {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <span class="action">
      <button
        type="button"
        class={props.class}
        aria-label={props.label}
        disabled={busy || props.disabled}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await props.onClick();
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        {props.children}
      </button>
      {error ? <ErrorNote error={error} /> : null}
    </span>
  );
}

export function Empty({ children }: { children: ComponentChildren }): JSX.Element {
  return <p class="empty">{children}</p>;
}
