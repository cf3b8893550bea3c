// Agent runs: the tasks of the `agent` executor, newest first; each opens to its transcript.
import type { JSX } from "preact";
import { rpc, type Task } from "../api";
import { taskDuration, when } from "../format";
import { Link } from "../router";
import { Empty, ErrorNote, Section, Status, usePoll } from "../ui";

export function AgentsPage(): JSX.Element {
  const runs = usePoll((signal) => rpc<Task[]>("tasks.list", { executor: "agent", limit: 200 }, { signal }), [], 3000);
  const list = runs.data ?? [];
  return (
    <>
      <div class="page-head">
        <h1>Agent runs</h1>
      </div>
      <ErrorNote error={runs.error} />
      <Section title={runs.loading ? "Loading…" : `${list.length} run${list.length === 1 ? "" : "s"}`} id="agents-title">
        {!runs.loading && list.length === 0 ? (
          <Empty>
            No agent tasks yet (tasks with <code>"executor": "agent"</code>).
          </Empty>
        ) : (
          <div class="table-wrap">
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">Status</th>
                  <th scope="col">Goal</th>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => (
                  <tr key={t.id}>
                    <td class="name">
                      <Link href={`/tasks/${t.id}`}>{t.name}</Link>
                      <span class="id">{t.id}</span>
                    </td>
                    <td>
                      <Status status={t.status} />
                    </td>
                    <td class="clip">{String((t.inputs as { prompt?: unknown }).prompt ?? "")}</td>
                    <td>{when(t.started_at)}</td>
                    <td>{taskDuration(t, Date.now())}</td>
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
