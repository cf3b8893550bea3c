// A tree's tasks kept current from its event stream: the stored events come first (the server
// replays them), then live ones. Events are applied in batches, at most once per animation frame.
import { TERMINAL, type GroveEvent, type Task, type TaskStatus } from "./api";

export interface LiveTask {
  id: string;
  name: string;
  executor: string;
  parent_id: string | null;
  dependencies: { task: string; required: boolean }[];
  status: TaskStatus;
  started_at: string | null;
  finished_at: string | null;
  attempts: number;
  error: string | null;
}

export const STATUS_OF: Record<string, TaskStatus> = {
  "task.ready": "ready",
  "task.started": "running",
  "task.retrying": "ready",
  "task.completed": "completed",
  "task.failed": "failed",
  "task.cancelled": "cancelled",
  "task.skipped": "skipped",
  "task.waiting_approval": "waiting_approval",
  "task.approved": "ready",
  "task.rejected": "ready",
};

export function liveTask(t: Task): LiveTask {
  return {
    id: t.id,
    name: t.name,
    executor: t.executor,
    parent_id: t.parent_id,
    dependencies: t.dependencies,
    status: t.status,
    started_at: t.started_at,
    finished_at: t.finished_at,
    attempts: t.attempts,
    error: t.error ? `${t.error.type}: ${t.error.message}` : null,
  };
}

/**
 * The task after `e`, or the same object when `e` changes nothing. A task that was already
 * terminal when the page loaded ignores the replayed events from before it finished.
 */
export function applyEvent(t: LiveTask, e: GroveEvent): LiveTask {
  const status = STATUS_OF[e.type];
  if (!status) return t;
  const at = Date.parse(e.at);
  if (TERMINAL.has(t.status) && t.finished_at && at <= Date.parse(t.finished_at) && !(status === t.status)) return t;
  const next: LiveTask = { ...t, status };
  if (e.type === "task.started") {
    next.started_at = e.at;
    next.finished_at = null;
    next.attempts = typeof e.data.attempt === "number" ? e.data.attempt : t.attempts + (t.status === "running" ? 0 : 1);
  }
  if (TERMINAL.has(status)) next.finished_at = next.finished_at && t.status === status ? next.finished_at : e.at;
  if (status === "failed" || status === "cancelled") {
    const err = e.data.error as { type?: string; message?: string } | undefined;
    if (err?.message) next.error = `${err.type ?? "error"}: ${err.message}`;
  }
  if (status === "ready") next.finished_at = null;
  if (next.status === t.status && next.started_at === t.started_at && next.finished_at === t.finished_at && next.error === t.error && next.attempts === t.attempts) return t;
  return next;
}

/** Collects events and hands them over once per animation frame. */
export function frameBatcher(apply: (events: GroveEvent[]) => void): { push(events: GroveEvent[]): void; stop(): void } {
  let queue: GroveEvent[] = [];
  let raf = 0;
  return {
    push(events) {
      queue.push(...events);
      if (!raf)
        raf = requestAnimationFrame(() => {
          raf = 0;
          const batch = queue;
          queue = [];
          apply(batch);
        });
    },
    stop() {
      if (raf) cancelAnimationFrame(raf);
      raf = 0;
      queue = [];
    },
  };
}
