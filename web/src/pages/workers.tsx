// Workers and machines. Machines come from machines.list when the server has it. Workers have no
// list of their own in the API: they are read from the leases of running tasks (each running task
// names the worker holding it and when its lease — renewed by the worker's heartbeat — expires).
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { methods, rpc, type Task } from "../api";
import { json, relative } from "../format";
import { Link } from "../router";
import { Empty, ErrorNote, Section, usePoll } from "../ui";

function Machines(): JSX.Element {
  const [has, setHas] = useState<boolean | null>(null);
  useEffect(() => {
    methods()
      .then((m) => setHas(m.has("machines.list")))
      .catch(() => setHas(false));
  }, []);
  const list = usePoll((signal) => (has ? rpc<Record<string, unknown>[]>("machines.list", {}, { signal }) : Promise.resolve([])), [has], 10_000);
  if (has === false)
    return (
      <Section title="Machines" id="machines-title">
        <p class="notice">
          This server has no <code>machines.list</code> method; see <code>grove machines list</code>.
        </p>
      </Section>
    );
  const items = list.data ?? [];
  return (
    <Section title="Machines" id="machines-title">
      <ErrorNote error={list.error} />
      {has && !list.loading && items.length === 0 ? <Empty>No machines registered.</Empty> : null}
      <ul class="machines">
        {items.map((m, i) => (
          <li key={String(m.name ?? i)} class="card-inner">
            <strong>{String(m.name ?? `machine ${i + 1}`)}</strong>
            {m.labels && typeof m.labels === "object" ? (
              <span class="labels">
                {Object.entries(m.labels as Record<string, string>).map(([k, v]) => (
                  <span key={k} class="label">
                    {k}={v}
                  </span>
                ))}
              </span>
            ) : null}
            <pre class="json small">{json(Object.fromEntries(Object.entries(m).filter(([k]) => k !== "name" && k !== "labels")))}</pre>
          </li>
        ))}
      </ul>
    </Section>
  );
}

export function WorkersPage(): JSX.Element {
  const running = usePoll((signal) => rpc<Task[]>("tasks.list", { status: "running", limit: 1000 }, { signal }), [], 3000);
  const byWorker = new Map<string, Task[]>();
  for (const t of running.data ?? []) {
    const w = t.lease_owner ?? "(unknown)";
    byWorker.set(w, [...(byWorker.get(w) ?? []), t]);
  }
  const now = Date.now();
  return (
    <>
      <div class="page-head">
        <h1>Workers and machines</h1>
      </div>
      <ErrorNote error={running.error} />
      <Section title="Workers with work in flight" id="workers-title">
        <p class="muted">From the leases of running tasks in your scope: a lease is renewed by its worker's heartbeat.</p>
        {!running.loading && byWorker.size === 0 ? (
          <Empty>No task is running.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col" class="num">
                    In flight
                  </th>
                  <th scope="col">Lease expires</th>
                  <th scope="col">Tasks</th>
                </tr>
              </thead>
              <tbody>
                {[...byWorker].map(([w, tasks]) => {
                  const latest = tasks.map((t) => t.lease_expires_at ?? "").sort().at(-1) ?? null;
                  return (
                    <tr key={w}>
                      <td class="mono">{w}</td>
                      <td class="num">{tasks.length}</td>
                      <td>{relative(latest || null, now)}</td>
                      <td class="clip">
                        {tasks.slice(0, 5).map((t, i) => (
                          <span key={t.id}>
                            {i ? ", " : ""}
                            <Link href={`/tasks/${t.id}`}>{t.name}</Link>
                          </span>
                        ))}
                        {tasks.length > 5 ? ` and ${tasks.length - 5} more` : ""}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Machines />
    </>
  );
}
