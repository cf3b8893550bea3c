// Firing schedules (DESIGN §7): claim the due ones atomically, run their targets in parallel with
// the schedule's captured identity, store every item as it is produced, record each run's outcome.
// Execution never depends on anyone reading the output: items go to the store first, and the
// callbacks that print them cannot stop a run.
import { AsyncLocalStorage } from "node:async_hooks";
import type { BaseTaskClass, Executor, RuntimeSettings } from "../core/executor.js";
import { Grove } from "../client/local.js";
import type { CommandIO } from "../cli/io.js";
import type { TreeResult } from "../client/result.js";
import { newWorkerId } from "../engine/runner.js";
import type { Store } from "../store/store.js";
import type { ScheduleStore } from "../store/schedule-store.js";
import { ItemWriter, OutputCapture } from "./capture.js";
import type { ClaimedRun, RunError, RunItem, RunStatus, ScheduleRun, StoredItem } from "./model.js";

export const DEFAULT_RUN_LEASE_MS = 30_000;
export const DEFAULT_FIRE_CONCURRENCY = 32;
const TREE_ITEMS_LINGER_MS = 100;

/** Grove commands a schedule may not run: daemons, and firing schedules from a schedule. */
export const FORBIDDEN_ARGV: readonly string[][] = [["worker"], ["scheduler"], ["schedules", "run"]];

export interface RunOutcome {
  run: ScheduleRun;
  status: Exclude<RunStatus, "running">;
  success: boolean;
  error: RunError | null;
  items: number;
  /** False when the store no longer let this runner finish the run (it was abandoned). */
  recorded: boolean;
}

export interface FirerOptions {
  store: Store;
  schedules: ScheduleStore;
  /** The caller's scope: only schedules owned inside it are claimed. */
  scope: string;
  runner?: string;
  leaseMs?: number;
  /** Targets running at once; claimed runs beyond it wait for a slot. */
  concurrency?: number;
  /** The database this process uses, passed as --db to dispatched command lines. */
  db: string;
  /** --executors modules, passed to dispatched command lines. */
  executorModules?: string[];
  /** Executors for tree targets (besides the built-in ones). */
  executors?: (Executor | BaseTaskClass)[];
  settings?: Partial<RuntimeSettings>;
  onStart?(c: ClaimedRun): void;
  onItem?(c: ClaimedRun, item: StoredItem): void;
  onFinish?(c: ClaimedRun, outcome: RunOutcome): void;
  onWarning?(message: string): void;
}

interface InFlight {
  claimed: ClaimedRun;
  controller: AbortController;
  started: boolean;
  /** Given up (abandoned) by this runner: its end is not recorded. */
  dropped: boolean;
  done: Promise<RunOutcome | null>;
  resolve: (o: RunOutcome | null) => void;
}

/** The command line a schedule dispatches: its argv with the schedule's identity and store. */
export function dispatchArgv(argv: readonly string[], owner: string, db: string, executorModules: readonly string[] = []): string[] {
  const extra = ["--as", owner, "--db", db, ...executorModules.flatMap((m) => ["--executors", m])];
  const end = argv.indexOf("--");
  return end < 0 ? [...argv, ...extra] : [...argv.slice(0, end), ...extra, ...argv.slice(end)];
}

function errorOf(err: unknown): RunError {
  const e = err as Error & { name?: string };
  return { type: e?.name === "InputError" ? "invalid_target" : "fire_error", message: e?.message ?? String(err) };
}

function treeError(result: TreeResult): RunError {
  const bad = result.tasks.find((t) => t.error && t.error.type !== "dependency_failed") ?? result.tasks.find((t) => t.error);
  const why = bad?.error ? `: task "${bad.name}" ${bad.status}: ${bad.error.type}: ${bad.error.message}` : "";
  return { type: `tree_${result.status}`, message: `tree ${result.name} (${result.tree_id}) ${result.status}${why}`, details: { tree_id: result.tree_id } };
}

/**
 * Claims and runs due schedules for one process (`grove schedules run`, `grove scheduler`):
 * heartbeats the leases of its runs while they execute, and can give them up when stopping.
 */
export class ScheduleFirer {
  readonly runner: string;
  readonly leaseMs: number;
  readonly concurrency: number;
  private readonly inflight = new Map<string, InFlight>();
  private readonly queue: InFlight[] = [];
  private active = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly settledListeners = new Set<() => void>();
  private readonly opts: FirerOptions;
  /** One Grove per owner scope, made on its first tree firing (a Grove copies the registry). */
  private readonly groves = new Map<string, Grove>();

  constructor(options: FirerOptions) {
    // Callbacks run in the context the firer was made in: an item written by a dispatched command
    // happens inside that command's captured output context (cli/io.ts), and what the caller
    // prints must not land there.
    const outside = AsyncLocalStorage.snapshot();
    const bind = <A extends unknown[]>(fn: ((...args: A) => void) | undefined) => (fn ? (...args: A) => outside(() => fn(...args)) : undefined);
    this.opts = {
      ...options,
      onStart: bind(options.onStart),
      onItem: bind(options.onItem),
      onFinish: bind(options.onFinish),
      onWarning: bind(options.onWarning),
    };
    const opts = this.opts;
    this.runner = opts.runner ?? newWorkerId();
    this.leaseMs = opts.leaseMs ?? DEFAULT_RUN_LEASE_MS;
    this.concurrency = Math.max(1, opts.concurrency ?? DEFAULT_FIRE_CONCURRENCY);
  }

  /** Runs claimed by this firer that have not finished (running or waiting for a slot). */
  get busy(): number {
    return this.inflight.size;
  }

  /** Free slots: how many more runs this firer would start now. */
  get free(): number {
    return Math.max(0, this.concurrency - this.inflight.size);
  }

  /** Calls `fn` whenever a run of this firer ends. */
  onSettled(fn: () => void): () => void {
    this.settledListeners.add(fn);
    return () => this.settledListeners.delete(fn);
  }

  /** Marks runs of dead runners (expired lease) in scope abandoned. */
  abandonExpired(now?: number): Promise<ScheduleRun[]> {
    return this.opts.schedules.abandonExpired({ scope: this.opts.scope, now });
  }

  /** Claims up to `limit` due schedules in one transaction and starts running them. */
  async claim(limit: number, now?: number): Promise<ClaimedRun[]> {
    if (limit <= 0) return [];
    const claimed = await this.opts.schedules.claimDue({ scope: this.opts.scope, runner: this.runner, leaseMs: this.leaseMs, limit, now });
    return this.adopt(claimed);
  }

  /**
   * Starts runs claimed elsewhere under this firer's runner id (the server fires one schedule on
   * demand: a webhook or `schedules.run` with a name).
   */
  adopt(claimed: ClaimedRun[]): ClaimedRun[] {
    for (const c of claimed) {
      let resolve!: (o: RunOutcome | null) => void;
      const done = new Promise<RunOutcome | null>((r) => (resolve = r));
      const f: InFlight = { claimed: c, controller: new AbortController(), started: false, dropped: false, done, resolve };
      this.inflight.set(c.run.id, f);
      this.queue.push(f);
    }
    if (claimed.length > 0) this.startHeartbeat();
    this.pump();
    return claimed;
  }

  /** Resolves with the outcomes of the given runs (default: every run in flight) once they end. */
  async wait(runIds?: readonly string[]): Promise<RunOutcome[]> {
    const ids = runIds ?? [...this.inflight.keys()];
    const outcomes = await Promise.all(ids.map((id) => this.inflight.get(id)?.done ?? Promise.resolve(null)));
    return outcomes.filter((o): o is RunOutcome => o !== null);
  }

  /**
   * Gives up every run still in flight: tree targets are aborted (their running tasks handed
   * back), and the runs are recorded as abandoned with `error` right away, instead of waiting for
   * their leases to expire.
   */
  async abandonAll(error: RunError): Promise<ScheduleRun[]> {
    const all = [...this.inflight.values()];
    if (all.length === 0) return [];
    for (const f of all) {
      f.dropped = true;
      f.controller.abort();
    }
    this.queue.length = 0;
    const runs = await this.opts.schedules.abandonRuns(this.runner, all.map((f) => f.claimed.run.id), error);
    for (const f of all) this.settle(f, null);
    return runs;
  }

  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  // ---- internals ----------------------------------------------------------------------------

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const f = this.queue.shift()!;
      f.started = true;
      this.active++;
      void this.execute(f.claimed, f).then(
        (outcome) => {
          this.active--;
          this.settle(f, outcome);
          this.pump();
        },
        (err) => {
          this.active--;
          this.opts.onWarning?.(`run ${f.claimed.run.id}: ${(err as Error).message}`);
          this.settle(f, null);
          this.pump();
        },
      );
    }
  }

  private settle(f: InFlight, outcome: RunOutcome | null): void {
    if (!this.inflight.has(f.claimed.run.id)) return;
    this.inflight.delete(f.claimed.run.id);
    f.resolve(outcome);
    if (this.inflight.size === 0) this.close();
    for (const l of this.settledListeners) l();
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => void this.beat(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
  }

  private async beat(): Promise<void> {
    const ids = [...this.inflight.keys()];
    if (ids.length === 0) return;
    try {
      const held = new Set(await this.opts.schedules.heartbeatRuns(this.runner, ids, this.leaseMs));
      for (const id of ids) {
        const f = this.inflight.get(id);
        if (f && !held.has(id) && !f.dropped) {
          f.dropped = true;
          this.opts.onWarning?.(`run ${id} of schedule ${f.claimed.run.name}: its lease was lost (marked abandoned elsewhere); its end will not be recorded`);
        }
      }
    } catch (err) {
      this.opts.onWarning?.(`heartbeat failed: ${(err as Error).message}`);
    }
  }

  private async execute(c: ClaimedRun, f: InFlight): Promise<RunOutcome | null> {
    this.opts.onStart?.(c);
    // A tree's items are copies of its events, which the tree's own log keeps durably as they
    // happen: they are written in batches (up to 100 ms apart). A command's output is written as
    // it comes: it exists nowhere else.
    const linger = c.schedule.target.type === "tree" ? TREE_ITEMS_LINGER_MS : 0;
    const writer = new ItemWriter(this.opts.schedules, c.run.id, (item) => this.opts.onItem?.(c, item), linger);
    let result: { success: boolean; error: RunError | null };
    try {
      result = c.schedule.target.type === "tree" ? await this.fireTree(c, writer, f.controller.signal) : await this.fireArgv(c, writer);
    } catch (err) {
      result = { success: false, error: errorOf(err) };
      writer.push({ type: "error", error: result.error! });
    }
    try {
      await writer.close();
    } catch (err) {
      // The run's items could not all be stored: the run is failed, saying so.
      result = { success: false, error: { type: "store_error", message: `could not store the run's output: ${(err as Error).message}` } };
    }
    if (f.dropped) return null;
    const status = result.success ? "succeeded" : "failed";
    const recorded = await this.opts.schedules.finishRun({ runId: c.run.id, runner: this.runner, status, error: result.error });
    if (!recorded) this.opts.onWarning?.(`run ${c.run.id} of schedule ${c.run.name} ended ${status}, but it had been marked abandoned (lease lost)`);
    const outcome: RunOutcome = { run: c.run, status, success: result.success, error: result.error, items: writer.count, recorded };
    try {
      this.opts.onFinish?.(c, outcome);
    } catch {
      // printing the summary must not fail the run
    }
    return outcome;
  }

  /** A tree target: a new tree from the stored definition, owned by the schedule's owner. */
  private async fireTree(c: ClaimedRun, writer: ItemWriter, signal: AbortSignal): Promise<{ success: boolean; error: RunError | null }> {
    const target = c.schedule.target as Extract<ClaimedRun["schedule"]["target"], { type: "tree" }>;
    const grove = await this.groveFor(c.run.owner);
    const tree = await grove.createTree(target.tree, { name: target.name });
    await this.opts.schedules.setRunTree(c.run.id, tree.id);
    writer.push({ type: "tree", tree_id: tree.id });
    const result = await grove.runTree(tree.id, {
      signal,
      onEvent: (e) => {
        if (e.tree_id === tree.id) writer.push({ type: "event", event: { seq: e.seq, type: e.type, task_id: e.task_id, data: e.data, at: new Date(e.at).toISOString() } });
      },
    });
    writer.push({ type: "result", value: result });
    if (result.status === "completed") return { success: true, error: null };
    const error = treeError(result);
    writer.push({ type: "error", error });
    return { success: false, error };
  }

  private async groveFor(owner: string): Promise<Grove> {
    let grove = this.groves.get(owner);
    if (!grove) {
      grove = await Grove.local({ db: this.opts.store, scope: owner, executors: this.opts.executors, settings: this.opts.settings });
      if (this.groves.size >= 256) this.groves.clear();
      this.groves.set(owner, grove);
    }
    return grove;
  }

  /** A grove command line, dispatched in-process as the schedule's owner; stdout lines are items. */
  private async fireArgv(c: ClaimedRun, writer: ItemWriter): Promise<{ success: boolean; error: RunError | null }> {
    const target = c.schedule.target as Extract<ClaimedRun["schedule"]["target"], { type: "argv" }>;
    const capture = new OutputCapture((item: RunItem) => writer.push(item));
    const io: CommandIO = {
      stdout: { write: (chunk: string) => (capture.stdout(String(chunk)), true) },
      stderr: { write: (chunk: string) => (capture.stderr(String(chunk)), true) },
    };
    const { runCli } = await import("../cli/program.js");
    const code = await runCli(dispatchArgv(target.argv, c.run.owner, this.opts.db, this.opts.executorModules), io);
    capture.end();
    if (code === 0) return { success: true, error: null };
    const message = capture.lastError?.replace(/^grove: /, "") ?? `exited with code ${code}`;
    const error: RunError = { type: "exit_code", message, details: { exit_code: code } };
    writer.push({ type: "error", error });
    return { success: false, error };
  }
}
