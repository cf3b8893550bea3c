// The approvals queue: tasks waiting for a human (tasks.approvals), each with the command it asks
// to run, the policy's reasons and the risk; approve or reject it (tasks.approve / tasks.reject).
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { methods, rpc, type Approval } from "../api";
import { relative } from "../format";
import { Link } from "../router";
import { ActionButton, Empty, ErrorNote, Section, usePoll } from "../ui";

function Item({ a, onDone }: { a: Approval; onDone: () => void }): JSX.Element {
  const [reason, setReason] = useState("");
  const decide = (method: "tasks.approve" | "tasks.reject") => rpc(method, { id: a.task_id, ...(reason.trim() ? { reason: reason.trim() } : {}) }).then(onDone);
  const rid = `reason-${a.task_id}`;
  return (
    <li class={`approval risk-${a.risk}`} data-task={a.task_id}>
      <div class="approval-head">
        <span class={`risk r-${a.risk}`}>{a.risk} risk</span>
        <Link href={`/tasks/${a.task_id}`}>{a.name}</Link>
        <span class="muted">
          in <Link href={`/trees/${a.tree_id}`}>tree {a.tree_id.slice(0, 10)}…</Link>
          {a.machine ? ` on ${a.machine}` : ""}
          {a.requested_at ? ` · asked ${relative(a.requested_at)}` : ""}
        </span>
      </div>
      <pre class="command" aria-label="command">
        {a.command}
      </pre>
      {a.reasons?.length ? (
        <ul class="reasons" aria-label="policy reasons">
          {a.reasons.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      ) : null}
      <div class="row decide">
        <label for={rid} class="sr-only">
          Reason for {a.name}
        </label>
        <input id={rid} type="text" placeholder="reason (optional)" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        <ActionButton onClick={() => decide("tasks.approve")} label={`Approve ${a.name}`}>
          Approve
        </ActionButton>
        <ActionButton class="danger" onClick={() => decide("tasks.reject")} label={`Reject ${a.name}`}>
          Reject
        </ActionButton>
      </div>
    </li>
  );
}

export function ApprovalsPage(): JSX.Element {
  const [has, setHas] = useState<boolean | null>(null);
  useEffect(() => {
    methods()
      .then((m) => setHas(m.has("tasks.approvals")))
      .catch(() => setHas(false));
  }, []);
  const list = usePoll((signal) => (has ? rpc<Approval[]>("tasks.approvals", {}, { signal }) : Promise.resolve([] as Approval[])), [has], 2000);
  const items = list.data ?? [];
  return (
    <>
      <div class="page-head">
        <h1>Approvals</h1>
      </div>
      {has === false ? (
        <p class="notice">This server has no <code>tasks.approvals</code> method: decide with <code>grove tasks approve|reject ID</code>.</p>
      ) : (
        <>
          <ErrorNote error={list.error} />
          <Section title={has === null || list.loading ? "Loading…" : `${items.length} waiting`} id="approvals-title">
            {has && !list.loading && items.length === 0 ? (
              <Empty>Nothing is waiting for approval.</Empty>
            ) : (
              <ul class="approvals">
                {items.map((a) => (
                  <Item key={`${a.task_id}`} a={a} onDone={list.reload} />
                ))}
              </ul>
            )}
          </Section>
        </>
      )}
    </>
  );
}
