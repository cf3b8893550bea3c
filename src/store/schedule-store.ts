// Storage of schedules (DESIGN §7), next to a Store: implemented by SqliteStore.schedules() and
// PostgresStore.schedules(). Every method is one transaction. Scope arguments are owner scope
// paths matched on whole segments (`acme/team_1` contains `acme/team_1/x`, never
// `acme/team_10`); "" is everything.
import { InputError } from "../core/errors.js";
import type { ClaimedRun, NewSchedule, RunError, RunStatus, Schedule, ScheduleRun, ScheduleVersion, StoredItem } from "../schedules/model.js";
import type { Store } from "./store.js";

export interface ClaimDueOptions {
  /** The caller's scope: only schedules owned inside it are claimed. */
  scope: string;
  /** Recorded on each run; only this runner may heartbeat and finish it. */
  runner: string;
  leaseMs: number;
  /** Most schedules to claim in this one transaction. */
  limit: number;
  now?: number;
}

export interface FinishRunOptions {
  runId: string;
  runner: string;
  status: Extract<RunStatus, "succeeded" | "failed">;
  error?: RunError | null;
  now?: number;
}

export interface RunFilter {
  scope: string;
  owner?: string;
  name?: string;
  runId?: string;
  status?: RunStatus;
  /** The newest `limit` runs (returned oldest first). */
  limit?: number;
}

export interface ScheduleStore {
  /**
   * Adds version 1 of a schedule, or with `overwrite` the next version (the name's firing state
   * starts over). Throws InputError when the name is live for that owner and `overwrite` is not
   * set. A deleted name can be added again; its versions keep counting.
   */
  add(def: NewSchedule, opts: { overwrite: boolean; now?: number }): Promise<Schedule>;
  /**
   * The live schedule `name` within `scope`: the one owned by `scope` itself, else the only one in
   * its subtree. Throws InputError when several owners in the subtree have that name.
   */
  get(name: string, scope: string, opts?: { includeDeleted?: boolean }): Promise<Schedule | undefined>;
  list(opts: { scope: string; includeDeleted?: boolean }): Promise<Schedule[]>;
  /** Every version of a schedule, oldest first. */
  versions(owner: string, name: string): Promise<ScheduleVersion[]>;
  setEnabled(owner: string, name: string, enabled: boolean, now?: number): Promise<Schedule | undefined>;
  /** Tombstones the live version: it no longer fires or lists; versions and runs are kept. */
  remove(owner: string, name: string, now?: number): Promise<boolean>;

  /**
   * Atomically claims every due schedule in scope (up to `limit`): stores the firing
   * (last_fired_at, run_count, next due time) and inserts one `running` run with a lease per
   * firing, in one transaction. Two concurrent claims never fire the same due slot.
   */
  claimDue(opts: ClaimDueOptions): Promise<ClaimedRun[]>;
  /** Appends a run's items (durably, in order); `seq` is assigned by the caller, from 1. */
  appendItems(runId: string, items: readonly Omit<StoredItem, "run_id">[]): Promise<void>;
  /** Records the tree a tree target created for this run. */
  setRunTree(runId: string, treeId: string): Promise<void>;
  /**
   * running → succeeded | failed, and the schedule's last_status / last_error / error_count.
   * False when the run is no longer held by `runner` (its lease expired and it was abandoned).
   */
  finishRun(opts: FinishRunOptions): Promise<boolean>;
  /** Extends the leases of the runs `runner` still holds; returns their ids. */
  heartbeatRuns(runner: string, runIds: readonly string[], leaseMs: number, now?: number): Promise<string[]>;
  /**
   * running runs in scope whose lease expired → abandoned, with an error item and error; counted
   * as errors of their schedule. Returns them.
   */
  abandonExpired(opts: { scope: string; now?: number }): Promise<ScheduleRun[]>;
  /** running → abandoned for runs `runner` gives up (it is stopping). */
  abandonRuns(runner: string, runIds: readonly string[], error: RunError, now?: number): Promise<ScheduleRun[]>;

  runs(filter: RunFilter): Promise<ScheduleRun[]>;
  items(runIds: readonly string[]): Promise<StoredItem[]>;
  /** The earliest due time of an enabled live schedule in scope. */
  nextDueAt(scope: string): Promise<number | null>;
  /**
   * When the scheduler must look next, in one read: the earliest due time of an enabled live
   * schedule in scope, and the earliest lease expiry of a running run in scope (a runner that
   * died leaves its run to be marked abandoned then).
   */
  wakeTimes(scope: string): Promise<{ due: number | null; leaseExpiry: number | null }>;
  /** Deletes finished runs (and their items) in scope that finished before `before`. */
  prune(opts: { scope: string; before: number }): Promise<{ runs: number; items: number }>;
  /**
   * Starts hearing about changes made by other processes, so that a sleeping scheduler needs no
   * polling: SQLite watches the database's files (inotify) and checks `PRAGMA data_version`;
   * PostgreSQL LISTENs on the channel its schedule tables' triggers NOTIFY. Resolves true once
   * it hears them, false when it cannot (then only this process's changes wake waitForChange,
   * and the caller must look again on its own). Idempotent.
   */
  watchOthers(): Promise<boolean>;
  /**
   * A number that moves on every change heard. Taken before a look at the store and passed to
   * waitForChange, it makes a change that landed between the look and the wait end the wait at once.
   */
  changeMark(): number;
  /**
   * Resolves after `timeoutMs`, or earlier when schedules changed (in this process, or in another
   * one once watchOthers() resolved true), when `since` is given and a change was heard after it,
   * or when `signal` aborts.
   */
  waitForChange(timeoutMs: number, signal?: AbortSignal, since?: number): Promise<void>;
}

/** A store that keeps schedules. */
export interface HasSchedules {
  schedules(): ScheduleStore;
}

export function hasSchedules(store: Store): store is Store & HasSchedules {
  return typeof (store as Partial<HasSchedules>).schedules === "function";
}

/** The schedule store of an opened store, or an error naming the store kind that lacks one. */
export function schedulesOf(store: Store): ScheduleStore {
  if (!hasSchedules(store)) throw new Error(`schedules are not supported on the ${store.kind} store yet`);
  return store.schedules();
}

/**
 * Name resolution within a scope: the caller's own schedule first, else the only match in its
 * subtree; several owners with that name is an InputError asking for a narrower --as.
 */
export function pickOne(matches: Schedule[], name: string, scope: string): Schedule | undefined {
  if (matches.length <= 1) return matches[0];
  const own = matches.find((m) => m.owner === scope);
  if (own) return own;
  const owners = matches.map((m) => `"${m.owner}"`).join(", ");
  throw new InputError(`schedule "${name}" exists under several owners in your scope (${owners}); pick one with --as OWNER`, "name");
}
