// tasks.approve | tasks.reject | tasks.approvals (DESIGN §9): a human decides on a task an executor
// paused (an agent command needing approval). The decision is scope-checked by the store (a task
// outside the caller's scope is "not found"); the server then resumes the tree in its own process
// (`run: false` leaves it to any worker), and with `wait: true` answers once the tree is terminal
// or waits for a human again.
import { z } from "zod";
import { summarizeApproval } from "../../client/result.js";
import { ApprovalJson } from "../../cli/approval-contracts.js";
import { defineMethod, type MethodContext } from "./registry.js";
import { TaskStatus, id } from "./shapes.js";

const DecisionResult = z.object({
  id: z.string(),
  tree_id: z.string(),
  name: z.string(),
  decision: z.enum(["approved", "rejected"]),
  by: z.string().nullable(),
  reason: z.string().nullable(),
  status: TaskStatus.describe("the task's status when answering: ready, or with wait its status once the run stopped"),
});

const DecideParams = z
  .object({
    id,
    reason: z.string().max(2000).optional(),
    run: z.boolean().default(true).describe("resume the tree in the server now (default true); false leaves it to any worker"),
    wait: z.boolean().default(false).describe("answer once the tree is terminal or waits for a human again"),
  })
  .strict();

async function decide(p: z.output<typeof DecideParams>, ctx: MethodContext, decision: "approved" | "rejected") {
  const { store, trees } = ctx.services;
  const by = ctx.principal.id;
  const task = await store.decide(p.id, decision, { scope: ctx.scope, by, reason: p.reason });
  let status = task.status;
  if (p.wait) {
    await trees.run(task.tree_id, { signal: ctx.signal });
    status = (await store.getTask(task.id, ctx.scope))?.status ?? status;
  } else if (p.run) {
    trees.start(task.tree_id);
  }
  return { id: task.id, tree_id: task.tree_id, name: task.name, decision, by, reason: p.reason ?? null, status };
}

export const tasksApprove = defineMethod({
  name: "tasks.approve",
  description: "Approve a task waiting for approval: it resumes with the decision (the agent runs the command).",
  params: DecideParams,
  result: DecisionResult,
  handler: (p, ctx) => decide(p, ctx, "approved"),
});

export const tasksReject = defineMethod({
  name: "tasks.reject",
  description: "Reject a task waiting for approval: it resumes with the decision (the agent is told the command was refused).",
  params: DecideParams,
  result: DecisionResult,
  handler: (p, ctx) => decide(p, ctx, "rejected"),
});

export const tasksApprovals = defineMethod({
  name: "tasks.approvals",
  description: "Tasks waiting for approval in the caller's scope, oldest request first.",
  params: z.object({ tree_id: id.optional(), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
  result: z.array(ApprovalJson),
  async handler(p, ctx) {
    const list = await ctx.services.store.listApprovals({ scope: ctx.scope, treeId: p.tree_id, limit: p.limit });
    return list.map(summarizeApproval);
  },
});

export const APPROVAL_METHODS = [tasksApprove, tasksReject, tasksApprovals];
