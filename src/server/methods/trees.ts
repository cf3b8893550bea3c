// trees.list : the caller's trees, newest first, with their task counts (the dashboard's trees
// page; name search and date ranges are applied by the caller over this list).
import { z } from "zod";
import { iso } from "../../client/result.js";
import { TASK_STATUSES } from "../../core/types.js";
import { defineMethod } from "./registry.js";

const TreeStatus = z.enum(["running", "completed", "failed", "cancelled"]);

export const TreeSummaryJson = z.object({
  tree_id: z.string(),
  name: z.string(),
  owner: z.string(),
  status: TreeStatus,
  root_id: z.string(),
  created_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  counts: z.partialRecord(z.enum(TASK_STATUSES), z.number().int()).describe("the tree's tasks by status"),
});

export const treesList = defineMethod({
  name: "trees.list",
  description: "The caller's trees, newest first (at most `limit`), each with its task counts by status.",
  params: z.object({ status: TreeStatus.optional(), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
  result: z.array(TreeSummaryJson),
  async handler(p, ctx) {
    const { store } = ctx.services;
    const trees = await store.listTrees({ scope: ctx.scope, status: p.status, limit: p.limit });
    const out = [];
    for (const t of trees) {
      out.push({
        tree_id: t.id,
        name: t.name,
        owner: t.owner,
        status: t.status,
        root_id: t.root_id,
        created_at: iso(t.created_at),
        finished_at: iso(t.finished_at),
        counts: await store.treeCounts(t.id),
      });
    }
    return out;
  },
});

export const TREE_METHODS = [treesList];
