import { hostname } from "node:os";
import { TaskFailure } from "../core/errors.js";
import type { DependencyOutcome, RuntimeSettings } from "../core/executor.js";
import { uuidv7 } from "../core/ids.js";
import type { ExecutorRegistry } from "../core/registry.js";
import { DEFAULT_LEASE_MS, type NewEvent, type Task, type Tree } from "../core/types.js";
import type { ClaimedTask, DependencyRow, Outcome, Store } from "../store/store.js";
import { AttemptControl, runAttempt } from "./attempt.js";

/** How soon a running attempt's log events are stored (and streamed) after they are emitted. */
const LOG_FLUSH_MS = 250;

export interface RunnerOptions {
  store: Store;
  registry: ExecutorRegistry;
  /** Tasks running at once in this process (DESIGN §4: default 8). */
  concurrency?: number;
  workerId?: string;
  leaseMs?: number;
  /** Restrict to one tree (`grove run`); absent = any tree (`grove worker`). */
  treeId?: string;
  labels?: Record<string, string>;
  settings?: RuntimeSettings;
  /** Idle polling interval: picks up work made ready by other processes and expired leases. */
  pollMs?: number;
  /** How often running tasks are checked for cancellation by another process. */
  cancelPollMs?: number;
}

interface InFlight {
  task: Task;
  control: AttemptControl;
}

export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${uuidv7().slice(-12)}`;
}

/**
 * The ready-queue runner (DESIGN §4): claims ready tasks in priority order up to `concurrency`,
 * runs them, and completes them in batches; the store releases dependents in the same
 * transaction. Leases are heartbeated; tasks cancelled elsewhere are aborted within
 * `cancelPollMs`.
 */
export class Runner {
  readonly workerId: string;
  private readonly store: Store;
  private readonly registry: ExecutorRegistry;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly cancelPollMs: number;
  private readonly inflight = new Map<string, InFlight>();
  private readonly trees = new Map<string, Pick<Tree, "id" | "name" | "inputs">>();
  private outcomes: Outcome[] = [];
  private events: NewEvent[] = [];
  private flushing: Promise<void> | null = null;
  private logFlushTimer: NodeJS.Timeout | null = null;
  private claimLock: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | null = null;
  private stopping = false;
  private graceMs = 0;
  private failure: unknown = null;

  constructor(private readonly opts: RunnerOptions) {
    this.store = opts.store;
    this.registry = opts.registry;
    this.workerId = opts.workerId ?? newWorkerId();
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.pollMs = opts.pollMs ?? 200;
    this.cancelPollMs = opts.cancelPollMs ?? 300;
  }

  /**
   * Asks the loop to stop claiming. In-flight tasks get `graceMs` to finish; those still running
   * then are aborted and handed back to `ready` for another worker.
   */
  stop(opts: { graceMs?: number } = {}): void {
    this.graceMs = opts.graceMs ?? 0;
    this.stopping = true;
    this.wake();
  }

  /**
   * Runs until the tree (if any) is terminal, or until stop(). Returns the tree when given.
   * With a tree, it also returns (the tree still `running`) when the tree cannot progress without
   * a human: tasks wait for approval and nothing is ready or running. Waiting holds no process
   * open — the decision makes the task ready, and `grove run --resume` or any worker resumes it.
   */
  async run(): Promise<Tree | undefined> {
    const heartbeat = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.leaseMs / 3)));
    const cancelPoll = setInterval(() => void this.pollCancelled(), this.cancelPollMs);
    // Dead workers' tasks are recovered even while this one is busy (not only when it idles).
    const recovery = setInterval(() => void this.store.recoverExpired().catch(() => 0), Math.max(200, Math.min(this.leaseMs / 2, 5_000)));
    try {
      await this.store.recoverExpired();
      for (;;) {
        if (this.failure) throw this.failure;
        if (this.stopping) break;
        const { claimed, asked } = await this.exclusive(async () => {
          const free = this.concurrency - this.inflight.size;
          const tasks = free > 0 ? await this.store.claim(this.claimOptions(free)) : [];
          if (tasks.length > 0) await this.start(tasks);
          return { claimed: tasks, asked: free };
        });
        // A full claim may have left more behind: claim again at once. A short one emptied the
        // queue, so another claim now would only cost a round trip on the latency path.
        if (claimed.length > 0 && claimed.length === asked && this.inflight.size < this.concurrency) continue;
        if (this.inflight.size > 0 || this.outcomes.length > 0 || this.flushing) {
          await this.sleep(this.pollMs);
          continue;
        }
        // Idle: nothing claimable and nothing in flight.
        if (this.opts.treeId) {
          const tree = await this.store.getTree(this.opts.treeId);
          if (!tree || tree.status !== "running") return tree;
          if (await this.blockedOnApproval(this.opts.treeId)) return tree;
        }
        await this.recoverWhenIdle();
        const next = await this.store.nextRunAfter(this.opts.treeId);
        const delay = next === null ? this.pollMs : Math.max(0, Math.min(this.pollMs, next - Date.now()));
        await this.idle(delay);
      }
    } finally {
      // Leases stay heartbeated while in-flight work gets its grace period.
      await this.shutdown();
      clearInterval(heartbeat);
      if (this.logFlushTimer) clearTimeout(this.logFlushTimer);
      this.logFlushTimer = null;
      clearInterval(cancelPoll);
      clearInterval(recovery);
    }
    return this.opts.treeId ? this.store.getTree(this.opts.treeId) : undefined;
  }

  private lastIdleRecovery = 0;

  /**
   * Dead workers' expired leases are recovered when this runner idles — at most once a second,
   * so that a worker going idle after every task (one task at a time) does not add a query to
   * each task's path; the `recovery` timer covers busy periods.
   */
  private async recoverWhenIdle(): Promise<void> {
    const now = Date.now();
    if (now - this.lastIdleRecovery < 1_000) return;
    this.lastIdleRecovery = now;
    await this.store.recoverExpired();
  }

  /**
   * Whether only approvals stand between the tree and its end. The first read uses the small
   * task_approvals index and finds nothing in the common case, so idle polling stays cheap.
   */
  private async blockedOnApproval(treeId: string): Promise<boolean> {
    if ((await this.store.listApprovals({ treeId, limit: 1 })).length === 0) return false;
    const counts = await this.store.treeCounts(treeId);
    return !counts.ready && !counts.running;
  }

  private async shutdown(): Promise<void> {
    const deadline = Date.now() + this.graceMs;
    while (this.inflight.size > 0 && Date.now() < deadline && !this.failure) {
      await this.sleep(Math.min(100, deadline - Date.now()));
    }
    if (this.inflight.size > 0) {
      const ids = [...this.inflight.keys()];
      // The hand-back is queued on the exclusive lock before the attempts are aborted, so it is
      // stored before their "cancelled" outcomes (which flush stores through the same lock, and
      // the store then refuses: the tasks are no longer held). With an async store the outcome
      // could otherwise commit first and cancel a task that should go back to the queue.
      const released = this.exclusive(() => this.store.release(this.workerId, ids)).catch(() => 0);
      for (const f of this.inflight.values()) f.control.abort(new TaskFailure("cancelled", "worker shutting down"));
      await released;
    }
    await this.flush().catch(() => undefined);
  }

  private claimOptions(limit: number) {
    return { workerId: this.workerId, limit, leaseMs: this.leaseMs, treeId: this.opts.treeId, labels: this.opts.labels };
  }

  /**
   * Claims happen in the main loop and in flush (finish + claim in one transaction); running them
   * one at a time keeps `inflight` exact, so concurrency is never exceeded.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.claimLock.then(fn);
    this.claimLock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async start(tasks: ClaimedTask[]): Promise<void> {
    // Slots are taken before any await, so a concurrent claim sees them.
    for (const task of tasks) this.inflight.set(task.id, { task, control: new AttemptControl() });
    const depIds = new Set<string>();
    for (const t of tasks) for (const d of t.dependencies) depIds.add(d.task);
    const deps = depIds.size > 0 ? new Map((await this.store.dependencyOutcomes([...depIds])).map((t) => [t.id, t])) : new Map<string, DependencyRow>();
    for (const task of tasks) {
      // One await per new tree, not per task: the cache answers synchronously.
      let tree = this.trees.get(task.tree_id) ?? task.tree;
      if (tree) this.trees.set(task.tree_id, tree);
      else tree = await this.tree(task.tree_id);
      const dependencies: Record<string, DependencyOutcome> = {};
      for (const d of task.dependencies) {
        const dep = deps.get(d.task);
        if (dep) dependencies[dep.name] = { status: dep.status, result: dep.status === "completed" ? dep.result : null, error: dep.error };
      }
      const control = this.inflight.get(task.id)!.control;
      void runAttempt({
        task,
        tree,
        dependencies,
        registry: this.registry,
        workerId: this.workerId,
        settings: this.opts.settings,
        control,
        emit: (e) => this.logged(e),
      }).then(
        (outcome) => this.done(outcome),
        (err) => this.done({ taskId: task.id, workerId: this.workerId, kind: "failed", error: { type: "executor_error", message: String(err) } }),
      );
    }
  }

  private async tree(id: string): Promise<Pick<Tree, "id" | "name" | "inputs">> {
    let t = this.trees.get(id);
    if (!t) {
      const full = await this.store.getTree(id);
      t = full ? { id: full.id, name: full.name, inputs: full.inputs } : { id, name: "", inputs: {} };
      this.trees.set(id, t);
    }
    return t;
  }

  /**
   * A running attempt logged something. It is stored — and so reaches `grove tasks watch`, SSE
   * streams and the dashboard — within LOG_FLUSH_MS, batched with whatever else is pending, not
   * only when the attempt ends (an agent's commands and output stream while it works).
   */
  private logged(e: NewEvent): void {
    this.events.push(e);
    if (this.logFlushTimer) return;
    this.logFlushTimer = setTimeout(() => {
      this.logFlushTimer = null;
      if (this.events.length > 0) this.flushing ??= this.flush();
    }, LOG_FLUSH_MS);
  }

  /** An attempt ended. Its slot stays taken until the outcome is stored (see flush). */
  private done(outcome: Outcome): void {
    this.outcomes.push(outcome);
    // Outcomes arriving in the same turn of the event loop are stored in one transaction.
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  /** Stores buffered log events and outcomes in order, then frees the slots and wakes the loop. */
  private async flush(): Promise<void> {
    try {
      while (this.outcomes.length > 0 || this.events.length > 0) {
        await this.exclusive(async () => {
          const events = this.events;
          const outcomes = this.outcomes;
          this.events = [];
          this.outcomes = [];
          // The slots of the tasks being finished are free for the tasks claimed in the same
          // transaction.
          const free = this.concurrency - (this.inflight.size - outcomes.length);
          const claim = !this.stopping && free > 0 ? this.claimOptions(free) : undefined;
          const { claimed } = await this.store.finishAndClaim(outcomes, { events, claim });
          for (const o of outcomes) this.inflight.delete(o.taskId);
          if (claimed.length > 0) await this.start(claimed);
        });
      }
    } catch (err) {
      this.failure = err;
    } finally {
      this.flushing = null;
      this.wake();
    }
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.inflight.keys()];
    if (ids.length === 0) return;
    try {
      const held = new Set(await this.store.heartbeat(this.workerId, ids, this.leaseMs));
      this.abortMissing(ids, held, "lease lost");
    } catch {
      // a transient store error: the next beat retries before the lease can expire
    }
  }

  private async pollCancelled(): Promise<void> {
    const ids = [...this.inflight.keys()];
    if (ids.length === 0) return;
    try {
      const held = new Set(await this.store.stillHeld(this.workerId, ids));
      this.abortMissing(ids, held, "cancelled");
    } catch {
      // retried at the next poll
    }
  }

  private abortMissing(ids: string[], held: Set<string>, why: string): void {
    for (const id of ids) {
      const f = this.inflight.get(id);
      if (f && !held.has(id) && !f.control.aborted) f.control.abort(new TaskFailure("cancelled", why));
    }
  }

  /** Sleeps until work may be ready: the store's wake-up, our own wake(), or the timeout. */
  private async idle(ms: number): Promise<void> {
    const controller = new AbortController();
    this.wakeUp = () => {
      this.wakeUp = null;
      controller.abort();
    };
    try {
      await this.store.waitForWork(ms, controller.signal);
    } finally {
      this.wakeUp = null;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        this.wakeUp = null;
        resolve();
      };
    });
  }

  private wake(): void {
    this.wakeUp?.();
  }
}
