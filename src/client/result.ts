import type { TaskError, TaskStatus, Tree, TreeStatus } from "../core/types.js";
import type { TaskSummaryRow } from "../store/store.js";

/** The `grove run --json` shape (DESIGN §10). */
export interface TreeResult {
  tree_id: string;
  name: string;
  status: TreeStatus;
  tasks: TaskSummary[];
}

export interface TaskSummary {
  id: string;
  name: string;
  executor: string;
  parent_id: string | null;
  status: TaskStatus;
  result: unknown;
  error: TaskError | null;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function summarizeTask(t: TaskSummaryRow): TaskSummary {
  return {
    id: t.id,
    name: t.name,
    executor: t.executor,
    parent_id: t.parent_id,
    status: t.status,
    result: t.result,
    error: t.error,
    attempts: t.attempts,
    started_at: iso(t.started_at),
    finished_at: iso(t.finished_at),
  };
}

export function treeResult(tree: Tree, tasks: readonly TaskSummaryRow[]): TreeResult {
  const ordered = [...tasks].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
  return { tree_id: tree.id, name: tree.name, status: tree.status, tasks: ordered.map(summarizeTask) };
}
