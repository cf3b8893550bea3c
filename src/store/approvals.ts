// Pieces of the approval transitions (DESIGN §9) shared by the SQLite and PostgreSQL stores.
import { IllegalTransitionError, type ApprovalRequest } from "../core/errors.js";
import type { ApprovalResume } from "../core/executor.js";

/** The ctx.resume of a claimed task, from its decided task_approvals row. */
export function resumeOf(
  r: { decision: "approved" | "rejected"; decided_by?: string | null; reason?: string | null },
  request: ApprovalRequest,
  state: unknown,
): ApprovalResume {
  const out: ApprovalResume = { decision: r.decision, request, state };
  if (r.decided_by !== null && r.decided_by !== undefined) out.by = r.decided_by;
  if (r.reason !== null && r.reason !== undefined) out.reason = r.reason;
  return out;
}

/** Deciding a task that does not wait (already decided, never paused, cancelled, running…). */
export function notWaiting(taskId: string, status: string): IllegalTransitionError {
  return new IllegalTransitionError(taskId, status, "ready", `task ${taskId} is not waiting for approval (it is ${status})`);
}
