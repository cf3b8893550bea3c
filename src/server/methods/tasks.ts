// tasks.* : create, execute, read and control trees and tasks, always within the caller's scope.
import { z } from "zod";
import { treeResult } from "../../client/result.js";
import { NotFoundError } from "../../core/errors.js";
import { loadTree } from "../../tree/index.js";
import type { Store } from "../../store/store.js";
import { defineMethod, type MethodContext } from "./registry.js";
import { AttemptJson, EventJson, TaskJson, TaskStatus, TreeDoc, TreeResult, attemptJson, eventJson, id, taskJson } from "./shapes.js";

const concurrency = z.number().int().min(1).max(256);
const inputs = z.record(z.string(), z.unknown());

async function createTree(ctx: MethodContext, doc: unknown, opts: { name?: string; inputs?: Record<string, unknown> }) {
  const tree = loadTree(doc, { registry: ctx.services.registry, owner: ctx.scope, defaultName: opts.name ?? "tree" });
  if (opts.inputs) tree.inputs = { ...tree.inputs, ...opts.inputs };
  return ctx.services.store.createTree(tree);
}

async function resultOf(store: Store, treeId: string, scope: string) {
  const tree = await store.getTree(treeId, scope);
  if (!tree) throw new NotFoundError(`no tree ${treeId}`);
  return treeResult(tree, await store.treeTasks(treeId, scope));
}

/** A tree id, or the tree of a task id, within scope. */
export async function resolveTreeId(store: Store, idOrTask: string, scope: string): Promise<string> {
  const tree = await store.getTree(idOrTask, scope);
  if (tree) return tree.id;
  const task = await store.getTask(idOrTask, scope);
  if (task) return task.tree_id;
  throw new NotFoundError(`no tree or task ${idOrTask}`);
}

export const tasksCreate = defineMethod({
  name: "tasks.create",
  description: "Validate and store a tree (nothing is stored when it is invalid). The server's worker runs it; follow it with GET /trees/:id/events.",
  params: z.object({ tree: TreeDoc, name: z.string().max(200).optional(), inputs: inputs.optional() }).strict(),
  result: TreeResult,
  async handler(p, ctx) {
    const tree = await createTree(ctx, p.tree, p);
    return resultOf(ctx.services.store, tree.id, ctx.scope);
  },
});

export const tasksExecute = defineMethod({
  name: "tasks.execute",
  description:
    "Run a tree in the server process: a new definition (`tree`) or a stored one (`tree_id`). Returns the final tree, or with `stream: true` the tree id at once (read GET /trees/:id/events).",
  params: z
    .object({
      tree: TreeDoc.optional(),
      tree_id: id.optional(),
      name: z.string().max(200).optional(),
      inputs: inputs.optional(),
      stream: z.boolean().optional(),
      concurrency: concurrency.optional(),
    })
    .strict()
    .refine((p) => (p.tree === undefined) !== (p.tree_id === undefined), { message: "give exactly one of tree or tree_id", path: ["tree"] }),
  result: z.union([TreeResult, z.object({ tree_id: z.string(), stream: z.literal(true), events: z.string().describe("path of the SSE stream") })]),
  async handler(p, ctx) {
    const { store, trees } = ctx.services;
    let treeId: string;
    if (p.tree_id !== undefined) {
      const tree = await store.getTree(p.tree_id, ctx.scope);
      if (!tree) throw new NotFoundError(`no tree ${p.tree_id}`);
      treeId = tree.id;
    } else {
      treeId = (await createTree(ctx, p.tree, p)).id;
    }
    if (p.stream) {
      trees.start(treeId, { concurrency: p.concurrency });
      return { tree_id: treeId, stream: true as const, events: `/trees/${treeId}/events` };
    }
    // The client going away does not cancel the tree: the runner stops, the server worker (or
    // any worker) finishes it, and its result stays readable with tasks.tree.
    await trees.run(treeId, { concurrency: p.concurrency, signal: ctx.signal });
    return resultOf(store, treeId, ctx.scope);
  },
});

export const tasksGet = defineMethod({
  name: "tasks.get",
  description: "One task with its attempts.",
  params: z.object({ id }).strict(),
  result: TaskJson.extend({ attempt_history: z.array(AttemptJson) }),
  async handler(p, ctx) {
    const task = await ctx.services.store.getTask(p.id, ctx.scope);
    if (!task) throw new NotFoundError(`no task ${p.id}`);
    const attempts = await ctx.services.store.attempts(task.id);
    return { ...taskJson(task), attempt_history: attempts.map(attemptJson) };
  },
});

export const tasksTree = defineMethod({
  name: "tasks.tree",
  description: "A tree (by tree id or the id of one of its tasks) and the state of each task.",
  params: z.object({ id }).strict(),
  result: TreeResult,
  async handler(p, ctx) {
    const treeId = await resolveTreeId(ctx.services.store, p.id, ctx.scope);
    return resultOf(ctx.services.store, treeId, ctx.scope);
  },
});

export const tasksList = defineMethod({
  name: "tasks.list",
  description: "Tasks in the caller's scope, newest first.",
  params: z
    .object({
      tree_id: id.optional(),
      status: TaskStatus.optional(),
      executor: z.string().max(200).optional(),
      limit: z.number().int().min(1).max(1000).default(50),
      offset: z.number().int().min(0).default(0),
    })
    .strict(),
  result: z.array(TaskJson),
  async handler(p, ctx) {
    const tasks = await ctx.services.store.listTasks({ scope: ctx.scope, treeId: p.tree_id, status: p.status, executor: p.executor, limit: p.limit, offset: p.offset });
    return tasks.map(taskJson);
  },
});

export const tasksCancel = defineMethod({
  name: "tasks.cancel",
  description: "Cancel a task, or every unfinished task of a tree; running attempts stop within a second.",
  params: z.object({ id, reason: z.string().max(1000).optional() }).strict(),
  result: z.object({ id: z.string(), cancelled: z.number().int() }),
  async handler(p, ctx) {
    const n = await ctx.services.store.cancel(p.id, { scope: ctx.scope, reason: p.reason });
    return { id: p.id, cancelled: n };
  },
});

export const tasksRetry = defineMethod({
  name: "tasks.retry",
  description: "Start a failed, cancelled or skipped task over (its skipped dependents too); the server runs the tree again unless `run: false`.",
  params: z.object({ id, run: z.boolean().default(true) }).strict(),
  result: z.object({ id: z.string(), tree_id: z.string(), reset: z.array(z.string()) }),
  async handler(p, ctx) {
    const reset = await ctx.services.store.retry(p.id, { scope: ctx.scope });
    const treeId = reset[0]!.tree_id;
    if (p.run) ctx.services.trees.start(treeId);
    return { id: p.id, tree_id: treeId, reset: reset.map((t) => t.id) };
  },
});

export const tasksLogs = defineMethod({
  name: "tasks.logs",
  description: "The stored events of a task or tree after `after` (a seq), oldest first.",
  params: z.object({ id, after: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(10_000).default(1000) }).strict(),
  result: z.array(EventJson),
  async handler(p, ctx) {
    const { store } = ctx.services;
    const tree = await store.getTree(p.id, ctx.scope);
    let filter: { treeId?: string; taskId?: string };
    if (tree) filter = { treeId: tree.id };
    else {
      const task = await store.getTask(p.id, ctx.scope);
      if (!task) throw new NotFoundError(`no tree or task ${p.id}`);
      filter = { taskId: task.id };
    }
    const events = await store.events({ ...filter, afterSeq: p.after, limit: p.limit, scope: ctx.scope });
    return events.map(eventJson);
  },
});

export const TASK_METHODS = [tasksCreate, tasksExecute, tasksGet, tasksTree, tasksList, tasksCancel, tasksRetry, tasksLogs];
