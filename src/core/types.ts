// The data model of DESIGN §2, shared by every layer.

export const TASK_STATUSES = [
  "pending",
  "ready",
  "running",
  "waiting_approval",
  "completed",
  "failed",
  "cancelled",
  "skipped",
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["completed", "failed", "cancelled", "skipped"];
export const isTerminal = (s: TaskStatus): boolean => TERMINAL_STATUSES.includes(s);

export type TreeStatus = "running" | "completed" | "failed" | "cancelled";

export const ERROR_TYPES = [
  "validation_error",
  "executor_not_found",
  "template_error",
  "timeout",
  "cancelled",
  "dependency_failed",
  "exit_code",
  "executor_error",
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export interface TaskError {
  type: ErrorType;
  message: string;
  details?: unknown;
}

export interface RetryPolicy {
  max_attempts: number;
  backoff: "fixed" | "exponential";
  base_ms: number;
  max_ms: number;
}

export const DEFAULT_RETRY: RetryPolicy = { max_attempts: 1, backoff: "exponential", base_ms: 1000, max_ms: 60_000 };
export const DEFAULT_PRIORITY = 2;
export const DEFAULT_LEASE_MS = 30_000;

export interface Dependency {
  task: string; // task id
  required: boolean;
}

/** A task as it is stored. Times are epoch milliseconds. */
export interface Task {
  id: string;
  tree_id: string;
  parent_id: string | null;
  name: string;
  executor: string;
  inputs: Record<string, unknown>;
  dependencies: Dependency[];
  priority: number;
  retry: RetryPolicy;
  timeout_ms: number | null;
  /** Lease length for this task (null: the worker's, default 30 s). */
  lease_ms: number | null;
  placement: Record<string, string>;
  owner: string;
  status: TaskStatus;
  result: unknown;
  error: TaskError | null;
  attempts: number;
  run_after: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface Tree {
  id: string;
  name: string;
  owner: string;
  inputs: Record<string, unknown>;
  root_id: string;
  status: TreeStatus;
  created_at: number;
  finished_at: number | null;
}

/** A task ready to be inserted: what tree/ produces after parsing and validation. */
export interface NewTask {
  id: string;
  parent_id: string | null;
  name: string;
  executor: string;
  inputs: Record<string, unknown>;
  dependencies: Dependency[];
  priority: number;
  retry: RetryPolicy;
  timeout_ms: number | null;
  lease_ms?: number | null;
  placement: Record<string, string>;
}

export interface NewTree {
  id: string;
  name: string;
  owner: string;
  inputs: Record<string, unknown>;
  root_id: string;
  tasks: NewTask[];
}

export const EVENT_TYPES = [
  "task.created",
  "task.ready",
  "task.started",
  "task.log",
  "task.progress",
  "task.retrying",
  "task.completed",
  "task.failed",
  "task.cancelled",
  "task.skipped",
  "task.waiting_approval",
  "task.approved",
  "task.rejected",
  "agent.thinking",
  "agent.tool_call",
  "agent.tool_result",
  "agent.result",
  "tree.completed",
  "tree.failed",
  "tree.cancelled",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One row of the append-only events table; `seq` orders a tree's events. */
export interface GroveEvent {
  seq: number;
  tree_id: string;
  task_id: string | null;
  type: EventType;
  data: Record<string, unknown>;
  at: number;
}

export type NewEvent = Omit<GroveEvent, "seq" | "at"> & { at?: number };
