import { NotFoundError, InputError } from "../core/errors.js";
import { io, write } from "./io.js";
import { TASK_STATUSES, type GroveEvent, type Task, type TaskStatus } from "../core/types.js";
import { iso, treeResult } from "../client/result.js";
import { openGrove, printJson } from "./context.js";
import type { GlobalOptions } from "./program.js";
import { runCommand } from "./run.js";
import { seconds } from "./live-view.js";

/** A task as the CLI prints it in JSON: the stored row with ISO times. */
export function taskJson(t: Task): Record<string, unknown> {
  return {
    ...t,
    run_after: iso(t.run_after || null),
    lease_expires_at: iso(t.lease_expires_at),
    created_at: iso(t.created_at),
    started_at: iso(t.started_at),
    finished_at: iso(t.finished_at),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

export async function listCommand(opts: GlobalOptions & { tree?: string; status?: string; executor?: string; limit: number }): Promise<void> {
  if (opts.status && !(TASK_STATUSES as readonly string[]).includes(opts.status)) {
    throw new InputError(`--status ${opts.status}: must be one of ${TASK_STATUSES.join(", ")}`, "status");
  }
  const grove = await openGrove(opts);
  try {
    const tasks = await grove.listTasks({ treeId: opts.tree, status: opts.status as TaskStatus | undefined, executor: opts.executor, limit: opts.limit });
    if (opts.json) return printJson(tasks.map(taskJson));
    if (tasks.length === 0) return void write("no tasks\n");
    write(table([["ID", "TREE", "NAME", "EXECUTOR", "STATUS", "ATTEMPTS"], ...tasks.map((t) => [t.id, t.tree_id, t.name, t.executor, t.status, String(t.attempts)])]));
  } finally {
    await grove.close();
  }
}

export async function getCommand(id: string, opts: GlobalOptions): Promise<void> {
  const grove = await openGrove(opts);
  try {
    const task = await grove.getTask(id);
    const attempts = await grove.store.attempts(id);
    if (opts.json) {
      return printJson({ ...taskJson(task), attempt_history: attempts.map((a) => ({ ...a, started_at: iso(a.started_at), finished_at: iso(a.finished_at) })) });
    }
    const out = io().stdout;
    out.write(`${task.name} (${task.id})\n`);
    out.write(`  tree      ${task.tree_id}\n  executor  ${task.executor}\n  status    ${task.status}\n  attempts  ${task.attempts}\n`);
    out.write(`  priority  ${task.priority}\n  inputs    ${JSON.stringify(task.inputs)}\n`);
    if (task.result !== null) out.write(`  result    ${JSON.stringify(task.result)}\n`);
    if (task.error) out.write(`  error     ${task.error.type}: ${task.error.message}\n`);
    for (const a of attempts) {
      const took = a.finished_at ? ` in ${seconds(a.finished_at - a.started_at)}` : "";
      out.write(`  attempt ${a.attempt}: ${a.outcome}${took} on ${a.worker}${a.error ? ` — ${a.error.type}: ${a.error.message}` : ""}\n`);
    }
  } finally {
    await grove.close();
  }
}

async function resolveTreeId(grove: Awaited<ReturnType<typeof openGrove>>, id: string): Promise<string> {
  const tree = await grove.store.getTree(id, grove.scope);
  if (tree) return tree.id;
  const task = await grove.store.getTask(id, grove.scope);
  if (task) return task.tree_id;
  throw new NotFoundError(`no tree or task ${id}`);
}

export async function treeCommand(id: string, opts: GlobalOptions): Promise<void> {
  const grove = await openGrove(opts);
  try {
    const treeId = await resolveTreeId(grove, id);
    const tree = (await grove.store.getTree(treeId, grove.scope))!;
    const tasks = await grove.listTasks({ treeId, limit: 1_000_000 });
    if (opts.json) return printJson(treeResult(tree, tasks));
    const children = new Map<string | null, Task[]>();
    for (const t of tasks) children.set(t.parent_id, [...(children.get(t.parent_id) ?? []), t]);
    const lines: string[] = [`${tree.name} (${tree.id}) ${tree.status}`];
    const walk = (parent: string | null, depth: number) => {
      for (const t of (children.get(parent) ?? []).sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1))) {
        const err = t.error ? ` — ${t.error.type}: ${t.error.message}` : "";
        lines.push(`${"  ".repeat(depth + 1)}${t.name} [${t.executor}] ${t.status}${t.attempts > 1 ? ` (${t.attempts} attempts)` : ""}${err}`);
        walk(t.id, depth + 1);
      }
    };
    walk(null, 0);
    write(lines.join("\n") + "\n");
  } finally {
    await grove.close();
  }
}

function eventLine(e: GroveEvent): string {
  const d = e.data as { name?: string; message?: string; error?: { type: string; message: string }; attempt?: number; progress?: number };
  const what = d.message ?? (d.error ? `${d.error.type}: ${d.error.message}` : d.progress !== undefined ? `${Math.round(d.progress * 100)}%` : d.attempt ? `attempt ${d.attempt}` : "");
  return `${String(e.seq).padStart(6)} ${new Date(e.at).toISOString()} ${e.type.padEnd(15)} ${d.name ?? ""} ${what}`.trimEnd();
}

export async function logsCommand(id: string, opts: GlobalOptions & { after: string }): Promise<void> {
  const after = Number(opts.after);
  if (!Number.isInteger(after) || after < 0) throw new InputError(`--after ${opts.after}: must be a non-negative integer`, "after");
  const grove = await openGrove(opts);
  try {
    const tree = await grove.store.getTree(id, grove.scope);
    let events: GroveEvent[];
    if (tree) events = await grove.store.events({ treeId: id, afterSeq: after });
    else {
      const task = await grove.store.getTask(id, grove.scope);
      if (!task) throw new NotFoundError(`no tree or task ${id}`);
      events = await grove.store.events({ taskId: id, afterSeq: after });
    }
    if (opts.json) return printJson(events.map((e) => ({ ...e, at: iso(e.at) })));
    write(events.map(eventLine).join("\n") + (events.length ? "\n" : ""));
  } finally {
    await grove.close();
  }
}

export async function cancelCommand(id: string, opts: GlobalOptions & { reason?: string }): Promise<void> {
  const grove = await openGrove(opts);
  try {
    const n = await grove.cancel(id, opts.reason);
    if (opts.json) return printJson({ id, cancelled: n });
    write(`cancelled ${n} task${n === 1 ? "" : "s"}\n`);
  } finally {
    await grove.close();
  }
}

export async function retryCommand(id: string, opts: GlobalOptions & { run: boolean; concurrency: number }): Promise<void> {
  const grove = await openGrove(opts);
  let treeId: string;
  try {
    const reset = await grove.retry(id);
    treeId = reset[0]!.tree_id;
    if (!opts.run) {
      if (opts.json) return printJson({ id, tree_id: treeId, reset: reset.map((t) => t.id) });
      write(`reset ${reset.length} task${reset.length === 1 ? "" : "s"}; run them with: grove run --resume ${treeId}\n`);
      return;
    }
  } finally {
    await grove.close();
  }
  await runCommand(undefined, { ...opts, resume: treeId, progress: true });
}
