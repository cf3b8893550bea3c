// Trees: the caller's trees, newest first — filter by status (on the server), search by name and
// limit by date (over the newest 1,000) — and a form that starts a tree.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { rpc, TASK_STATUSES, type TreeResult, type TreeSummary } from "../api";
import { duration, when } from "../format";
import { Link, navigate, useRoute } from "../router";
import { Empty, ErrorNote, Section, Status, usePoll } from "../ui";

const TREE_STATUSES = ["running", "completed", "failed", "cancelled"];

function Progress({ counts }: { counts: TreeSummary["counts"] }): JSX.Element {
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0) || 1;
  const label = TASK_STATUSES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s.replace("_", " ")}`).join(", ");
  return (
    <span class="progress" role="img" aria-label={label} title={label}>
      {TASK_STATUSES.filter((s) => counts[s]).map((s) => (
        <span key={s} class={`bar s-${s}`} style={{ width: `${((counts[s] ?? 0) / total) * 100}%` }} />
      ))}
    </span>
  );
}

function NewTree({ onDone }: { onDone: () => void }): JSX.Element {
  const [text, setText] = useState('{\n  "name": "hello",\n  "tasks": [{ "name": "greet", "executor": "command", "inputs": { "command": "echo hi" } }]\n}');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    let tree: unknown;
    try {
      tree = JSON.parse(text);
    } catch (err) {
      setError(new Error(`not JSON: ${(err as Error).message}`));
      return;
    }
    setBusy(true);
    try {
      const created = await rpc<TreeResult>("tasks.create", { tree: tree as Record<string, unknown> });
      onDone();
      navigate(`/trees/${created.tree_id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="new-tree" onSubmit={submit}>
      <label for="tree-json">Tree definition (grove JSON; the server's worker runs it)</label>
      <textarea id="tree-json" rows={8} spellcheck={false} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <div class="row">
        <button type="submit" disabled={busy}>
          Run tree
        </button>
        <ErrorNote error={error} />
      </div>
    </form>
  );
}

export function TreesPage(): JSX.Element {
  const { query } = useRoute();
  const status = query.get("status") ?? "";
  const q = query.get("q") ?? "";
  const from = query.get("from") ?? "";
  const to = query.get("to") ?? "";
  const [showNew, setShowNew] = useState(false);
  // the newest 200 trees (up to 1,000 with "Show more"); name and dates filter those
  const [limit, setLimit] = useState(200);
  const trees = usePoll((signal) => rpc<TreeSummary[]>("trees.list", { ...(status ? { status } : {}), limit }, { signal }), [status, limit], 5000);

  const set = (k: string, v: string) => {
    const next = new URLSearchParams(query);
    if (v) next.set(k, v);
    else next.delete(k);
    const s = next.toString();
    navigate(`/trees${s ? `?${s}` : ""}`, { replace: true });
  };
  const fromMs = from ? Date.parse(`${from}T00:00:00`) : -Infinity;
  const toMs = to ? Date.parse(`${to}T00:00:00`) + 86_400_000 : Infinity;
  const needle = q.trim().toLowerCase();
  const shown = (trees.data ?? []).filter((t) => {
    const created = t.created_at ? Date.parse(t.created_at) : 0;
    return (!needle || t.name.toLowerCase().includes(needle) || t.tree_id.startsWith(needle)) && created >= fromMs && created < toMs;
  });

  return (
    <>
      <div class="page-head">
        <h1>Trees</h1>
        <button type="button" aria-expanded={showNew} onClick={() => setShowNew(!showNew)}>
          {showNew ? "Close" : "Run a tree"}
        </button>
      </div>
      {showNew ? <NewTree onDone={() => setShowNew(false)} /> : null}
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Name
          <input type="search" name="q" value={q} placeholder="search by name or id" onInput={(e) => set("q", (e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Status
          <select name="status" value={status} onChange={(e) => set("status", (e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {TREE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" name="from" value={from} onInput={(e) => set("from", (e.target as HTMLInputElement).value)} />
        </label>
        <label>
          To
          <input type="date" name="to" value={to} onInput={(e) => set("to", (e.target as HTMLInputElement).value)} />
        </label>
      </form>
      <ErrorNote error={trees.error} />
      <Section title={trees.loading ? "Loading…" : `${shown.length} tree${shown.length === 1 ? "" : "s"}`} id="trees-title">
        {!trees.loading && shown.length === 0 ? (
          <Empty>No trees{status || q || from || to ? " match these filters" : " yet"}.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="list trees">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Tasks</th>
                  <th scope="col" class="hide-sm">Scope</th>
                  <th scope="col">Created</th>
                  <th scope="col" class="hide-sm">Duration</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((t) => (
                  <tr key={t.tree_id} data-tree={t.tree_id}>
                    <td class="name">
                      <Link href={`/trees/${t.tree_id}`}>{t.name}</Link>
                      <span class="id">{t.tree_id}</span>
                    </td>
                    <td>
                      <Status status={t.status} />
                    </td>
                    <td>
                      <Progress counts={t.counts} />
                    </td>
                    <td class="hide-sm">{t.owner || "/"}</td>
                    <td>{when(t.created_at)}</td>
                    <td class="hide-sm num">{t.finished_at && t.created_at ? duration(Date.parse(t.finished_at) - Date.parse(t.created_at)) : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {trees.data && trees.data.length === limit && limit < 1000 ? (
          <button type="button" class="quiet" onClick={() => setLimit(Math.min(1000, limit + 200))}>
            Show more (the newest {limit} are shown)
          </button>
        ) : null}
      </Section>
    </>
  );
}
