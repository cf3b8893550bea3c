// A task: inputs, resolved inputs (per attempt), result, error, attempts, and its event log
// streaming live from GET /tasks/:id/events. Agent tasks also show their run as a transcript.
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { follow, methods, rpc, TERMINAL, type Attempt, type GroveEvent, type Task } from "../api";
import { taskDuration, when } from "../format";
import { Link } from "../router";
import { ActionButton, ErrorNote, Json, Section, Status, usePoll } from "../ui";
import { AgentTranscript } from "./agent-view";

type FullTask = Task & { attempt_history: Attempt[] };

const MAX_LOG = 5000;

function eventText(e: GroveEvent): string {
  const d = e.data ?? {};
  if (e.type === "task.log") return String(d.message ?? "");
  if (e.type === "task.failed" || e.type === "task.retrying") return d.error ? `${d.error.type}: ${d.error.message}` : "";
  if (e.type === "task.started") return d.attempt ? `attempt ${d.attempt}${d.worker ? ` on ${d.worker}` : ""}` : "";
  if (e.type === "task.progress") return d.progress !== undefined ? `${Math.round(Number(d.progress) * 100)}%${d.message ? ` ${d.message}` : ""}` : "";
  if (e.type === "task.waiting_approval") return d.request?.command ? `approval needed: ${d.request.command}` : "";
  if (e.type === "task.approved" || e.type === "task.rejected") return [d.by && `by ${d.by}`, d.reason].filter(Boolean).join(": ");
  return "";
}

export function EventLog({ events, state }: { events: GroveEvent[]; state: string }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [events.length]);
  return (
    <div
      class="log"
      ref={box}
      tabIndex={0}
      role="log"
      aria-label={`event log (${state})`}
      onScroll={(e) => {
        const el = e.currentTarget as HTMLDivElement;
        stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      }}
    >
      {events.length === 0 ? <div class="muted log-line">No events yet.</div> : null}
      {events.map((e) => (
        <div key={e.seq} class={`log-line t-${e.type.replace(".", "-")}${e.data?.agent ? ` a-${e.data.agent}` : ""}`}>
          <span class="log-time">{e.at.slice(11, 23)}</span>
          <span class="log-type">{e.data?.agent ? `agent.${e.data.agent}` : e.type}</span>
          <span class="log-text">{eventText(e)}</span>
        </div>
      ))}
    </div>
  );
}

export function TaskPage({ id }: { id: string }): JSX.Element {
  const [events, setEvents] = useState<GroveEvent[]>([]);
  const [stream, setStream] = useState("connecting");
  const [now, setNow] = useState(Date.now());
  const [approvable, setApprovable] = useState(false);
  const task = usePoll((signal) => rpc<FullTask>("tasks.get", { id }, { signal }), [id]);
  const { reload } = task;

  useEffect(() => {
    setEvents([]);
    let pending: GroveEvent[] = [];
    let raf = 0;
    const stop = follow(`/tasks/${encodeURIComponent(id)}/events`, 0, {
      onEvents: (batch) => {
        pending.push(...batch);
        if (batch.some((e) => e.type !== "task.log" && e.type !== "task.progress")) reload();
        if (!raf)
          raf = requestAnimationFrame(() => {
            raf = 0;
            const add = pending;
            pending = [];
            setEvents((cur) => {
              const next = cur.concat(add);
              return next.length > MAX_LOG ? next.slice(next.length - MAX_LOG) : next;
            });
          });
      },
      onEnd: () => reload(),
      onState: setStream,
    });
    return () => {
      stop();
      if (raf) cancelAnimationFrame(raf);
    };
  }, [id]);

  useEffect(() => {
    methods()
      .then((m) => setApprovable(m.has("tasks.approve") && m.has("tasks.reject")))
      .catch(() => undefined);
  }, []);

  const t = task.data;
  useEffect(() => {
    if (t?.status !== "running") return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [t?.status]);

  if (task.error && !t) return <ErrorNote error={task.error} />;
  if (!t) return <p class="muted">Loading…</p>;
  const isAgent = t.executor === "agent" || events.some((e) => e.data?.agent);
  return (
    <>
      <div class="page-head">
        <h1>
          <span class="crumb">
            <Link href={`/trees/${t.tree_id}`}>Tree</Link> /
          </span>{" "}
          {t.name}
        </h1>
        <div class="head-status">
          <Status status={t.status} />
          <span class={`stream st-${stream}`}>{stream === "live" ? "live" : stream === "ended" ? "finished" : stream}</span>
        </div>
      </div>
      <div class="summary">
        <dl>
          <dt>Task</dt>
          <dd class="mono">{t.id}</dd>
          <dt>Executor</dt>
          <dd>{t.executor}</dd>
          <dt>Scope</dt>
          <dd>{t.owner || "/"}</dd>
          <dt>Attempts</dt>
          <dd>{t.attempts}</dd>
          <dt>Started</dt>
          <dd>{when(t.started_at)}</dd>
          <dt>Duration</dt>
          <dd>{taskDuration(t, now) || "—"}</dd>
        </dl>
        <div class="row">
          {!TERMINAL.has(t.status) ? (
            <ActionButton class="danger" onClick={() => rpc("tasks.cancel", { id: t.id, reason: "cancelled from the dashboard" }).then(reload)}>
              Cancel
            </ActionButton>
          ) : null}
          {t.status === "failed" || t.status === "cancelled" || t.status === "skipped" ? (
            <ActionButton onClick={() => rpc("tasks.retry", { id: t.id }).then(reload)}>Retry</ActionButton>
          ) : null}
          {t.status === "waiting_approval" && approvable ? (
            <>
              <ActionButton onClick={() => rpc("tasks.approve", { id: t.id, reason: "approved in the dashboard" }).then(reload)}>Approve</ActionButton>
              <ActionButton class="danger" onClick={() => rpc("tasks.reject", { id: t.id, reason: "rejected in the dashboard" }).then(reload)}>
                Reject
              </ActionButton>
            </>
          ) : null}
        </div>
      </div>
      {t.error ? (
        <section class="card error-card" aria-labelledby="error-title">
          <h2 id="error-title">Error</h2>
          <p class="error-message">
            <strong>{t.error.type}</strong>: {t.error.message}
          </p>
          {t.error.details !== undefined ? <Json value={t.error.details} label="error details" /> : null}
        </section>
      ) : null}
      <div class="grid2">
        <Section title="Inputs" id="inputs-title">
          <Json value={t.inputs} label="inputs" />
        </Section>
        <Section title="Result" id="result-title">
          <Json value={t.result ?? null} label="result" />
        </Section>
      </div>
      {isAgent ? <AgentTranscript events={events} result={t.result} /> : null}
      <Section title="Event log" id="log-title">
        <EventLog events={events} state={stream} />
      </Section>
      <Section title={`Attempts (${t.attempt_history.length})`} id="attempts-title">
        {t.attempt_history.length === 0 ? (
          <p class="muted">Not started yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Worker</th>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {t.attempt_history.map((a) => (
                  <tr key={a.attempt}>
                    <td>{a.attempt}</td>
                    <td>
                      <Status status={a.outcome} />
                    </td>
                    <td class="mono">{a.worker}</td>
                    <td>{when(a.started_at)}</td>
                    <td>{taskDuration(a, now)}</td>
                    <td>{a.error ? `${a.error.type}: ${a.error.message}` : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {t.attempt_history.some((a) => a.resolved_inputs) ? (
          <details>
            <summary>Resolved inputs (latest attempt)</summary>
            <Json value={[...t.attempt_history].reverse().find((a) => a.resolved_inputs)?.resolved_inputs} label="resolved inputs" />
          </details>
        ) : null}
      </Section>
    </>
  );
}
