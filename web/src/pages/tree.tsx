// A tree: its DAG drawn in SVG (simple layered layout) with each task's live state and duration,
// kept current from GET /trees/:id/events.
import type { JSX } from "preact";
import { memo } from "preact/compat";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { follow, rpc, TASK_STATUSES, TERMINAL, type Task, type TaskStatus, type TreeResult } from "../api";
import { columnsFor, layout, NODE_H, NODE_W } from "../dag";
import { duration, taskDuration, when } from "../format";
import { applyEvent, frameBatcher, liveTask, type LiveTask } from "../live";
import { Link, navigate } from "../router";
import { ActionButton, ErrorNote, Status } from "../ui";

const PAGE = 1000;

async function loadTasks(treeId: string, signal: AbortSignal): Promise<Task[]> {
  const all: Task[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await rpc<Task[]>("tasks.list", { tree_id: treeId, limit: PAGE, offset }, { signal });
    all.push(...page);
    if (page.length < PAGE) break;
  }
  // tasks.list is newest first; the drawing uses creation order
  return all.sort((a, b) => (a.created_at ?? "").localeCompare(b.created_at ?? "") || a.id.localeCompare(b.id));
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

const Node = memo(function Node({ t, x, y, now }: { t: LiveTask; x: number; y: number; now: number }): JSX.Element {
  const d = taskDuration(t, now);
  const label = `${t.name}: ${t.status.replace("_", " ")}${d ? `, ${d}` : ""}`;
  return (
    <a
      href={`/tasks/${t.id}`}
      class={`node s-${t.status}`}
      aria-label={label}
      data-task={t.name}
      data-status={t.status}
      onClick={(e: MouseEvent) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(`/tasks/${t.id}`);
      }}
    >
      <title>{label}</title>
      <rect x={x} y={y} width={NODE_W} height={NODE_H} rx={6} />
      <text x={x + 10} y={y + 18} class="n-name">
        {clip(t.name, 20)}
      </text>
      <text x={x + 10} y={y + 35} class="n-meta">
        {t.status.replace("_", " ")}
        {d ? ` · ${d}` : ""}
      </text>
    </a>
  );
});

export function TreePage({ id }: { id: string }): JSX.Element {
  const [tree, setTree] = useState<TreeResult | null>(null);
  const [tasks, setTasks] = useState<LiveTask[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [stream, setStream] = useState("connecting");
  const [now, setNow] = useState(Date.now());
  const [cols, setCols] = useState(6);
  const wrap = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const ac = new AbortController();
    let stop = () => undefined as void;
    let index = new Map<string, number>();
    const batcher = frameBatcher((events) => {
      let treeStatus: string | null = null;
      setTasks((cur) => {
        if (!cur) return cur;
        let next: LiveTask[] | null = null;
        for (const e of events) {
          if (e.type.startsWith("tree.")) treeStatus = e.type.slice(5);
          const i = e.task_id ? index.get(e.task_id) : undefined;
          if (i === undefined) continue;
          const arr: LiveTask[] = next ?? cur;
          const t = applyEvent(arr[i]!, e);
          if (t !== arr[i]) {
            next ??= cur.slice();
            next[i] = t;
          }
        }
        return next ?? cur;
      });
      if (treeStatus) setTree((t) => (t ? { ...t, status: treeStatus! } : t));
    });
    setTree(null);
    setTasks(null);
    setError(null);
    (async () => {
      try {
        const [tr, list] = await Promise.all([rpc<TreeResult>("tasks.tree", { id }, { signal: ac.signal }), loadTasks(id, ac.signal)]);
        if (ac.signal.aborted) return;
        if (tr.tree_id !== id) {
          navigate(`/trees/${tr.tree_id}`, { replace: true });
          return;
        }
        index = new Map(list.map((t, i) => [t.id, i]));
        setTree(tr);
        setTasks(list.map(liveTask));
        stop = follow(`/trees/${encodeURIComponent(id)}/events`, 0, {
          onEvents: (events) => batcher.push(events),
          onEnd: (status) => setTree((t) => (t ? { ...t, status } : t)),
          onState: (s) => setStream(s),
        });
      } catch (err) {
        if (!ac.signal.aborted) setError(err);
      }
    })();
    return () => {
      ac.abort();
      stop();
      batcher.stop();
    };
  }, [id]);

  // columns follow the width of the drawing's box
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const measure = () => setCols(Math.min(24, columnsFor(el.clientWidth)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [tasks === null]);

  const running = tasks?.some((t) => t.status === "running") ?? false;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);

  // the layout depends on the structure only, never on states
  const structure = tasks;
  const lay = useMemo(() => (structure ? layout(structure, cols) : null), [structure === null, cols, structure?.length]);

  const counts = useMemo(() => {
    const c: Partial<Record<TaskStatus, number>> = {};
    for (const t of tasks ?? []) c[t.status] = (c[t.status] ?? 0) + 1;
    return c;
  }, [tasks]);
  const failed = (tasks ?? []).filter((t) => t.status === "failed" || t.status === "cancelled");
  const waiting = (tasks ?? []).filter((t) => t.status === "waiting_approval");
  const started = (tasks ?? []).reduce((m, t) => (t.started_at && (!m || t.started_at < m) ? t.started_at : m), "" as string);
  const finished = tree && TERMINAL.has(tree.status) ? (tasks ?? []).reduce((m, t) => (t.finished_at && t.finished_at > m ? t.finished_at : m), "") : "";

  if (error) return <ErrorNote error={error} />;
  return (
    <>
      <div class="page-head">
        <h1>
          <span class="crumb">
            <Link href="/trees">Trees</Link> /
          </span>{" "}
          {tree?.name ?? "…"}
        </h1>
        <div class="head-status">
          {tree ? <Status status={tree.status} /> : null}
          <span class={`stream st-${stream}`} aria-live="polite">
            {stream === "live" ? "live" : stream === "ended" ? "finished" : stream}
          </span>
        </div>
      </div>
      <div class="summary">
        <dl>
          <dt>Tree</dt>
          <dd class="mono">{id}</dd>
          <dt>Tasks</dt>
          <dd data-testid="counts">
            {TASK_STATUSES.filter((s) => counts[s])
              .map((s) => `${counts[s]} ${s.replace("_", " ")}`)
              .join(" · ") || "—"}
          </dd>
          <dt>Started</dt>
          <dd>{when(started || null)}</dd>
          <dt>Duration</dt>
          <dd>{started ? duration((finished ? Date.parse(finished) : now) - Date.parse(started)) : "—"}</dd>
        </dl>
        <div class="row">
          {tree && !TERMINAL.has(tree.status) ? (
            <ActionButton class="danger" onClick={() => rpc("tasks.cancel", { id, reason: "cancelled from the dashboard" })}>
              Cancel tree
            </ActionButton>
          ) : null}
        </div>
        {waiting.length ? (
          <p>
            {waiting.length} task{waiting.length === 1 ? "" : "s"} waiting for approval: <Link href="/approvals">open the approvals queue</Link>
          </p>
        ) : null}
        {failed.length ? (
          <div class="failed-list">
            <h2>Failed</h2>
            <ul>
              {failed.slice(0, 20).map((t) => (
                <li key={t.id}>
                  <Link href={`/tasks/${t.id}`}>{t.name}</Link> <span class="muted">{t.error ?? t.status}</span>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </div>
      <div class="dag-wrap" ref={wrap}>
        {lay && tasks ? (
          <svg class="dag" width={lay.width} height={lay.height} viewBox={`0 0 ${lay.width} ${lay.height}`} role="group" aria-label={`${tasks.length} tasks`}>
            <path class="edges" d={lay.edges} />
            {tasks.map((t) => {
              const p = lay.pos.get(t.id)!;
              return <Node key={t.id} t={t} x={p.x} y={p.y} now={t.status === "running" ? now : 0} />;
            })}
          </svg>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </div>
    </>
  );
}
