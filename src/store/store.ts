import type { ApprovalRequest } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { ApprovalResume } from "../core/executor.js";
import type { GroveEvent, NewEvent, NewTree, Task, TaskError, TaskStatus, Tree, TreeStatus } from "../core/types.js";

export interface ClaimOptions {
  workerId: string;
  /** Most tasks to claim in this one statement. */
  limit: number;
  leaseMs: number;
  /** Only claim tasks of this tree (`grove run`); any tree when absent (`grove worker`). */
  treeId?: string;
  /** A task with `placement` labels is claimed only by a worker having all of them. */
  labels?: Record<string, string>;
  now?: number;
}

interface OutcomeBase {
  taskId: string;
  workerId: string;
  /** Inputs after templates and defaults, secrets redacted: stored on the attempt row. */
  resolvedInputs?: Record<string, unknown>;
}
export type Outcome =
  | (OutcomeBase & { kind: "completed"; result: unknown })
  | (OutcomeBase & { kind: "failed"; error: TaskError; retryAt?: number })
  | (OutcomeBase & { kind: "cancelled"; error: TaskError })
  /**
   * The executor threw ApprovalRequired: running → waiting_approval, lease released, `request`
   * and `state` kept (task_approvals) until a human decides. Not terminal: dependents and the
   * tree are left as they are. Both values must already be redacted of secrets.
   */
  | (OutcomeBase & { kind: "waiting_approval"; request: ApprovalRequest; state: unknown });

/**
 * A claimed task. `resume` is set when the task paused for approval and a decision was made
 * since: the engine hands it to the executor as `ctx.resume`. It stays set on every later claim
 * (a lease expiry, an automatic retry) until the task pauses again or `grove tasks retry` resets it.
 */
export type ClaimedTask = Task & {
  resume?: ApprovalResume;
  /**
   * The task's tree as an executor sees it (name and inputs never change), when the store read it
   * with the claim (PostgreSQL does, in the claim statement): a runner can skip its own getTree.
   */
  tree?: Pick<Tree, "id" | "name" | "inputs">;
};

/** A task waiting for a human decision, as `grove tasks approvals` lists it. */
export interface PendingApproval {
  task_id: string;
  tree_id: string;
  name: string;
  executor: string;
  owner: string;
  /** The attempt that paused. */
  attempt: number;
  request: ApprovalRequest;
  requested_at: number;
}

export interface DecideOptions {
  scope?: string;
  /** Who decided (recorded, shown to the executor as `ctx.resume.by`). */
  by?: string;
  reason?: string;
}

export interface TaskFilter {
  scope?: string;
  treeId?: string;
  status?: TaskStatus;
  executor?: string;
  limit?: number;
  offset?: number;
}

export interface TreeFilter {
  scope?: string;
  status?: TreeStatus;
  limit?: number;
}

export interface EventFilter {
  treeId?: string;
  taskId?: string;
  afterSeq?: number;
  limit?: number;
  scope?: string;
}

export interface Attempt {
  task_id: string;
  attempt: number;
  worker: string;
  started_at: number;
  finished_at: number | null;
  outcome: "running" | "completed" | "failed" | "retrying" | "cancelled" | "lease_expired" | "lost" | "waiting_approval";
  resolved_inputs: Record<string, unknown> | null;
  error: TaskError | null;
}

export interface DependencyRow {
  id: string;
  name: string;
  status: TaskStatus;
  result: unknown;
  error: TaskError | null;
}

export interface TaskSummaryRow extends DependencyRow {
  executor: string;
  parent_id: string | null;
  attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/**
 * Everything grove keeps. Each method is one transaction; the status state machine of DESIGN §2 is
 * enforced here (an illegal transition throws IllegalTransitionError). Both the SQLite and the
 * PostgreSQL store pass the same conformance suite (test/store/conformance.ts).
 */
export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** Every event appended by this process, after its transaction committed. */
  readonly bus: EventBus;

  /** Inserts a validated tree and all its tasks atomically; tasks without dependencies start `ready`. */
  createTree(tree: NewTree): Promise<Tree>;
  getTree(id: string, scope?: string): Promise<Tree | undefined>;
  listTrees(filter?: TreeFilter): Promise<Tree[]>;

  getTask(id: string, scope?: string): Promise<Task | undefined>;
  getTasks(ids: readonly string[]): Promise<Task[]>;
  listTasks(filter?: TaskFilter): Promise<Task[]>;
  /**
   * What an executor sees of its dependencies: name, status, result and error only (no inputs or
   * settings to decode) — the runner reads this for every claimed task that has dependencies.
   */
  dependencyOutcomes(ids: readonly string[]): Promise<DependencyRow[]>;
  /** Every task of a tree in creation order, only the fields a run's result reports. */
  treeTasks(treeId: string, scope?: string): Promise<TaskSummaryRow[]>;
  /** Counts of a tree's tasks by status. */
  treeCounts(treeId: string): Promise<Partial<Record<TaskStatus, number>>>;

  /** ready → running for up to `limit` tasks (priority ascending, then age), with a lease. */
  claim(opts: ClaimOptions): Promise<ClaimedTask[]>;
  /**
   * running → completed | failed | ready (retry) | cancelled | waiting_approval for a batch, releasing dependents
   * (pending → ready | skipped, transitively) in the same transaction. Returns, per outcome,
   * whether it was accepted: false when the task is no longer held by that worker (cancelled,
   * or its lease expired and another worker took it).
   */
  finish(outcomes: readonly Outcome[]): Promise<boolean[]>;
  /**
   * The runner's hot path: append `events`, finish `outcomes` and claim the next tasks, in one
   * transaction — one commit per batch instead of three.
   */
  finishAndClaim(outcomes: readonly Outcome[], opts: { events?: readonly NewEvent[]; claim?: ClaimOptions }): Promise<{ accepted: boolean[]; claimed: ClaimedTask[] }>;
  /** Extends the leases a worker still holds; returns the ids it still holds. */
  heartbeat(workerId: string, taskIds: readonly string[], leaseMs: number): Promise<string[]>;
  /** The ids among `taskIds` still `running` under `workerId` (a cheap read, polled for cancels). */
  stillHeld(workerId: string, taskIds: readonly string[]): Promise<string[]>;
  /** running → ready for tasks a worker hands back on shutdown (attempt recorded as "lost"). */
  release(workerId: string, taskIds: readonly string[]): Promise<number>;
  /** running tasks whose lease expired → ready again (or failed after repeated expiries). */
  recoverExpired(now?: number): Promise<number>;
  /**
   * Resolves after `timeoutMs`, or earlier when the store learns that tasks became ready
   * (PostgreSQL: LISTEN/NOTIFY from any process; SQLite: this process's own events), or when
   * `signal` aborts. Workers sleep on it instead of busy polling.
   */
  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Earliest `run_after` among ready tasks (of a tree), to sleep until it. */
  nextRunAfter(treeId?: string): Promise<number | null>;

  /** Cancels a task or, given a tree id, every unfinished task of the tree. Returns how many. */
  cancel(id: string, opts?: { scope?: string; reason?: string }): Promise<number>;
  /** `grove tasks retry`: failed|cancelled|skipped task → ready, its skipped dependents → pending. */
  retry(taskId: string, opts?: { scope?: string }): Promise<Task[]>;

  /**
   * `grove tasks approve|reject`: waiting_approval → ready with the decision recorded, so that any
   * worker claims it again and resumes the executor. Throws NotFoundError outside `scope`, and
   * IllegalTransitionError when the task is not waiting (already decided, cancelled, running…).
   */
  decide(taskId: string, decision: "approved" | "rejected", opts?: DecideOptions): Promise<Task>;
  /** Tasks in `waiting_approval` within `scope` (and `treeId`), oldest request first. */
  listApprovals(filter?: { scope?: string; treeId?: string; limit?: number }): Promise<PendingApproval[]>;

  appendEvents(events: readonly NewEvent[]): Promise<void>;
  events(filter: EventFilter): Promise<GroveEvent[]>;
  attempts(taskId: string): Promise<Attempt[]>;

  close(): Promise<void>;
}
