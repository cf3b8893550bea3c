import type { TaskStatus } from "./types.js";

/**
 * The status state machine (DESIGN §2). The store checks every write against it; the SQL of each
 * transition also guards on the source status so that a race cannot slip through.
 */
export const TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  pending: ["ready", "skipped", "cancelled"],
  ready: ["running", "cancelled"],
  running: ["completed", "failed", "ready", "waiting_approval", "cancelled"],
  // A decision (approve or reject) makes the task `ready`, not `running`: the process deciding
  // (`grove tasks approve`, the API) is not a worker and holds no lease, so the task goes back to
  // the queue and whichever worker claims it next runs the executor with `ctx.resume`. That is
  // what lets a pause survive the death of the process that paused it.
  waiting_approval: ["ready", "cancelled"],
  completed: [],
  failed: [],
  cancelled: [],
  skipped: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses a task may be in when a user resets it with `grove tasks retry`. */
export const RETRYABLE: readonly TaskStatus[] = ["failed", "cancelled", "skipped"];
