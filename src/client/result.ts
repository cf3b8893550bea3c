import type { TaskError, TaskStatus, Tree, TreeStatus } from "../core/types.js";
import type { PendingApproval, TaskSummaryRow } from "../store/store.js";

/** The `grove run --json` shape (DESIGN §10). */
export interface TreeResult {
  tree_id: string;
  name: string;
  status: TreeStatus;
  tasks: TaskSummary[];
  /**
   * Only when a run stopped because the tree waits for humans (its status is still `running`):
   * the tasks waiting for approval, each with the commands that decide it.
   */
  approvals?: ApprovalSummary[];
}

/** A task waiting for approval as the CLI and SDK print it (`grove tasks approvals --json`). */
export interface ApprovalSummary {
  task_id: string;
  tree_id: string;
  name: string;
  executor: string;
  owner: string;
  attempt: number;
  command: string;
  reasons: string[];
  risk: "low" | "medium" | "high";
  machine: string | null;
  requested_at: string | null;
  /** The command lines that decide it. */
  approve: string;
  reject: string;
}

export function summarizeApproval(p: PendingApproval): ApprovalSummary {
  return {
    task_id: p.task_id,
    tree_id: p.tree_id,
    name: p.name,
    executor: p.executor,
    owner: p.owner,
    attempt: p.attempt,
    command: p.request.command,
    reasons: p.request.reasons,
    risk: p.request.risk,
    machine: p.request.machine ?? null,
    requested_at: iso(p.requested_at),
    approve: `grove tasks approve ${p.task_id}`,
    reject: `grove tasks reject ${p.task_id}`,
  };
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
