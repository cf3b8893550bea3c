// Schedules: next due, last run, run and error counts; a schedule's run history with each run's
// items (its log). "Run now" fires one (schedules.run); enable/disable appear when the server
// has schedules.enable / schedules.disable.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { methods, rpc, type Schedule, type ScheduleRun } from "../api";
import { duration, json, relative, when } from "../format";
import { Link } from "../router";
import { ActionButton, Empty, ErrorNote, Section, Status, usePoll } from "../ui";

function spec(s: Schedule): string {
  if (s.kind === "cron") return `cron ${s.cron}${s.tz && s.tz !== "UTC" ? ` (${s.tz})` : ""}`;
  if (s.kind === "interval") return `every ${s.every}`;
  return s.at ? `once at ${when(s.at)}` : "once";
}

function useToggles(): boolean {
  const [has, setHas] = useState(false);
  useEffect(() => {
    methods()
      .then((m) => setHas(m.has("schedules.enable") && m.has("schedules.disable")))
      .catch(() => undefined);
  }, []);
  return has;
}

function Actions({ s, toggles, onDone }: { s: Schedule; toggles: boolean; onDone: () => void }): JSX.Element {
  return (
    <span class="row">
      <ActionButton onClick={() => rpc("schedules.run", { name: s.name, wait: false }).then(onDone)} label={`Run ${s.name} now`}>
        Run now
      </ActionButton>
      {toggles ? (
        <ActionButton onClick={() => rpc(s.enabled ? "schedules.disable" : "schedules.enable", { name: s.name }).then(onDone)} label={`${s.enabled ? "Disable" : "Enable"} ${s.name}`}>
          {s.enabled ? "Disable" : "Enable"}
        </ActionButton>
      ) : null}
    </span>
  );
}

export function SchedulesPage(): JSX.Element {
  const toggles = useToggles();
  const list = usePoll((signal) => rpc<Schedule[]>("schedules.list", {}, { signal }), [], 5000);
  const items = list.data ?? [];
  return (
    <>
      <div class="page-head">
        <h1>Schedules</h1>
      </div>
      <ErrorNote error={list.error} />
      <Section title={list.loading ? "Loading…" : `${items.length} schedule${items.length === 1 ? "" : "s"}`} id="schedules-title">
        {!list.loading && items.length === 0 ? (
          <Empty>
            No schedules. Add one with <code>grove schedules add</code> or <code>schedules.add</code>.
          </Empty>
        ) : (
          <div class="table-wrap">
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">When</th>
                  <th scope="col">Next due</th>
                  <th scope="col">Last run</th>
                  <th scope="col" class="num">
                    Runs
                  </th>
                  <th scope="col" class="num">
                    Errors
                  </th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {items.map((s) => (
                  <tr key={`${s.owner}/${s.name}`} data-schedule={s.name}>
                    <td class="name">
                      <Link href={`/schedules/${encodeURIComponent(s.name)}`}>{s.name}</Link>
                      <span class="id">
                        v{s.version}
                        {s.enabled ? "" : " · disabled"}
                      </span>
                    </td>
                    <td>{spec(s)}</td>
                    <td title={s.next_due_at ?? ""}>{s.next_due_at ? relative(s.next_due_at) : "never again"}</td>
                    <td>{s.last_fired_at ? <>{relative(s.last_fired_at)} {s.last_status ? <Status status={s.last_status} /> : null}</> : "—"}</td>
                    <td class="num">{s.run_count}</td>
                    <td class="num">{s.error_count}</td>
                    <td>
                      <Actions s={s} toggles={toggles} onDone={list.reload} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}

function itemText(item: Record<string, any>): string {
  switch (item.type) {
    case "output":
    case "result":
      return json(item.value);
    case "stderr":
      return item.text;
    case "tree":
      return `tree ${item.tree_id}`;
    case "event":
      return `${item.event?.type ?? "event"} ${item.event?.data ? json(item.event.data) : ""}`;
    case "error":
      return `${item.error?.type ?? "error"}: ${item.error?.message ?? ""}`;
    default:
      return json(item);
  }
}

export function SchedulePage({ name }: { name: string }): JSX.Element {
  const toggles = useToggles();
  const show = usePoll((signal) => rpc<Schedule>("schedules.show", { name }, { signal }), [name], 5000);
  const logs = usePoll((signal) => rpc<ScheduleRun[]>("schedules.logs", { name, limit: 20 }, { signal }), [name], 5000);
  const s = show.data;
  const runs = [...(logs.data ?? [])].reverse();
  const reload = () => {
    show.reload();
    logs.reload();
  };
  if (show.error && !s) return <ErrorNote error={show.error} />;
  return (
    <>
      <div class="page-head">
        <h1>
          <span class="crumb">
            <Link href="/schedules">Schedules</Link> /
          </span>{" "}
          {name}
        </h1>
        {s ? <Actions s={s} toggles={toggles} onDone={reload} /> : null}
      </div>
      {s ? (
        <div class="summary">
          <dl>
            <dt>When</dt>
            <dd>{spec(s)}</dd>
            <dt>Next due</dt>
            <dd>{s.next_due_at ? `${when(s.next_due_at)} (${relative(s.next_due_at)})` : "never again"}</dd>
            <dt>Last run</dt>
            <dd>{when(s.last_fired_at)}</dd>
            <dt>Runs / errors</dt>
            <dd>
              {s.run_count} / {s.error_count}
            </dd>
            <dt>State</dt>
            <dd>{s.deleted_at ? "deleted" : s.enabled ? "enabled" : "disabled"}</dd>
          </dl>
          {s.last_error ? <p class="error-note">last error: {s.last_error.message}</p> : null}
        </div>
      ) : null}
      <ErrorNote error={logs.error} />
      <Section title="Run history" id="runs-title">
        {!logs.loading && runs.length === 0 ? (
          <Empty>No runs yet.</Empty>
        ) : (
          <ol class="runs">
            {runs.map((r) => (
              <li key={r.run_id} class="run" data-run={r.run_id}>
                <div class="run-head">
                  <Status status={r.status} />
                  <span>{when(r.started_at)}</span>
                  <span class="muted">{r.finished_at ? duration(Date.parse(r.finished_at) - Date.parse(r.started_at)) : "running"}</span>
                  {r.tree_id ? <Link href={`/trees/${r.tree_id}`}>tree</Link> : null}
                  <span class="muted mono">{r.run_id}</span>
                </div>
                {r.error ? <p class="error-note">{r.error.message}</p> : null}
                {r.items?.length ? (
                  <details>
                    <summary>Log ({r.items.length} items)</summary>
                    <div class="log short" tabIndex={0}>
                      {r.items.map((i) => (
                        <div key={i.seq} class={`log-line i-${i.item.type}`}>
                          <span class="log-time">{i.at.slice(11, 23)}</span>
                          <span class="log-type">{i.item.type}</span>
                          <span class="log-text">{itemText(i.item)}</span>
                        </div>
                      ))}
                    </div>
                  </details>
                ) : null}
              </li>
            ))}
          </ol>
        )}
      </Section>
    </>
  );
}
