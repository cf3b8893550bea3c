// `grove tasks approve|reject|approvals` (DESIGN §9): a human decides on a task an executor paused.
import { summarizeApproval } from "../client/result.js";
import { openGrove, printJson } from "./context.js";
import { write } from "./io.js";
import type { GlobalOptions } from "./program.js";

export async function decideCommand(id: string, decision: "approved" | "rejected", opts: GlobalOptions & { reason?: string }): Promise<void> {
  const grove = await openGrove(opts);
  try {
    const task = decision === "approved" ? await grove.approve(id, { reason: opts.reason }) : await grove.reject(id, { reason: opts.reason });
    const event = (await grove.store.events({ taskId: id })).reverse().find((e) => e.type === `task.${decision}`);
    const by = (event?.data.by as string | null | undefined) ?? null;
    const resume = `grove run --resume ${task.tree_id}`;
    if (opts.json) return printJson({ id: task.id, tree_id: task.tree_id, name: task.name, decision, by, reason: opts.reason ?? null, status: "ready", resume });
    write(`${decision} ${task.name} (${task.id}); it resumes on the next \`${resume}\` or on any grove worker\n`);
  } finally {
    await grove.close();
  }
}

export async function approvalsCommand(opts: GlobalOptions & { tree?: string; limit: number }): Promise<void> {
  const grove = await openGrove(opts);
  try {
    const waiting = (await grove.listApprovals({ treeId: opts.tree, limit: opts.limit })).map(summarizeApproval);
    if (opts.json) return printJson(waiting);
    if (waiting.length === 0) return void write("no tasks waiting for approval\n");
    for (const a of waiting) {
      write(`${a.task_id}  ${a.name} (tree ${a.tree_id}) risk ${a.risk}${a.machine ? ` on ${a.machine}` : ""}\n`);
      write(`  command: ${a.command}\n`);
      for (const r of a.reasons) write(`  reason:  ${r}\n`);
      write(`  decide:  ${a.approve} | ${a.reject} [--reason TEXT]\n`);
    }
  } finally {
    await grove.close();
  }
}
