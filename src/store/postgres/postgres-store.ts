import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { IllegalTransitionError, InputError, NotFoundError } from "../../core/errors.js";
import { EventBus, makesReady } from "../../core/events.js";
import { normalizeScope } from "../../core/scope.js";
import { RETRYABLE } from "../../core/status.js";
import { isTerminal } from "../../core/types.js";
import type { GroveEvent, NewEvent, NewTree, Task, TaskError, TaskStatus, Tree } from "../../core/types.js";
import type { Attempt, ClaimedTask, ClaimOptions, DecideOptions, DependencyRow, EventFilter, Outcome, PendingApproval, Store, TaskFilter, TaskSummaryRow, TreeFilter } from "../store.js";
import { notWaiting, resumeOf } from "../approvals.js";
import type { ScheduleStore } from "../schedule-store.js";
import { PostgresSchedules } from "./postgres-schedules.js";
import { PostgresMachines } from "./postgres-machines.js";
import type { MachineStore } from "../machine-store.js";

// The PostgreSQL store (DESIGN §6): the same semantics, events, attempt rows and errors as the
// SQLite store, for many worker processes on many machines sharing one database.
//
// - Every state transition is one SQL file next to this one, run as a named (prepared) statement.
//   The files use `:name` parameters, compiled once to `$n` here.
// - Hot paths are set-based and counted in round trips: a claim is one statement (claim_start.sql:
//   UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) with its attempt rows and events), a
//   createTree one statement (create_tree.sql), and finishAndClaim of a batch of successes one
//   round trip (finish_commit.sql, pipelined with BEGIN, the claim and COMMIT). Other finish
//   batches are one transaction of one UPDATE per outcome kind, one for the attempt rows, and one
//   per level of released dependents (pending → ready | skipped). Either way the dependents a
//   completion frees are released in the completion's own transaction.
// - The pool's connections are in pg's pipeline mode (see tx()).
// - Wake-ups: a transaction that made tasks ready sends `NOTIFY grove_ready, '<tree id>'` (delivered
//   on commit only). waitForWork() LISTENs on one dedicated connection per store; the caller's
//   timeout is the polling backstop.
// - Transactions run at READ COMMITTED. Every guarded UPDATE recomputes from the row it locked, so
//   concurrent writers serialise per row; a deadlock (40P01) or serialisation failure (40001) rolls
//   the transaction back and it is run again (a few times) from scratch.
//
// Event order and commit order: `events.seq` is a BIGSERIAL, so a seq is handed out when the row
// is inserted, not when its transaction commits. Two concurrent transactions can commit out of seq
// order (seq 11 visible before seq 10), and a reader that streams "seq > last seen" could skip 10
// for good. SQLite never has this (one writer at a time). What we chose: writers are NOT
// serialised (that would put a global lock on every claim and finish); instead each event row
// records its inserting transaction (`xid`, xid8). events() here returns what is committed, like
// SQLite; a streaming reader (later issue) must only advance its cursor past rows whose xid is
// below `pg_snapshot_xmin(pg_current_snapshot())`, i.e. hold back anything a still-running
// transaction could yet commit below it (the "high-water mark" technique), or re-read a short
// overlap window.

import { compile as compileSql, type Stmt } from "./compile.js";

const here = dirname(fileURLToPath(import.meta.url));

/** A task whose lease expired this many times in a row is failed instead of retried forever. */
export const MAX_LEASE_EXPIRIES = 3;

/** Key of the session advisory lock held while migrations run ("grove" in ASCII). */
const MIGRATION_LOCK_KEY = 0x67726f7665;

/** The NOTIFY channel of schedule changes (migration 008's triggers; no payload). */
const SCHEDULES_CHANNEL = "grove_schedules";
/** The NOTIFY channel of "tasks became ready" (payload: the tree id). */
export const READY_CHANNEL = "grove_ready";

const TX_RETRIES = 5;

export const DEFAULT_POOL_SIZE = 10;

function defaultPoolSize(): number {
  const env = process.env.GROVE_PG_POOL_SIZE;
  if (!env) return DEFAULT_POOL_SIZE;
  const n = Number.parseInt(env, 10);
  if (!Number.isInteger(n) || n < 1 || String(n) !== env.trim()) throw new InputError(`GROVE_PG_POOL_SIZE must be a positive integer, got "${env}"`, "GROVE_PG_POOL_SIZE");
  return n;
}

type Row = Record<string, any>;

const compile = (name: string, source: string): Stmt => compileSql(`grove_${name}`, source);

const source = (name: string): string => readFileSync(join(here, `${name}.sql`), "utf8");
const fileStmt = (name: string): Stmt => compile(name, source(name));
/** claim.sql / claim_tree.sql inside claim_start.sql: the whole claim as one statement. */
const claimStmt = (name: string): Stmt => compile(name, source("claim_start").replace("/*claim*/", source(name)));
/** finish_completed.sql's CTEs with finish_commit.sql's events, NOTIFY and checks. */
const finishCommitStmt = (): Stmt => compile("finish_commit", source("finish_completed").split("/*select*/")[0]! + source("finish_commit"));

const FILES = [
  "complete", "fail", "retry", "finish_refused", "finish_attempt",
  "release_dependents", "finish_tree", "heartbeat", "still_held", "release", "recover_expired", "fail_expired",
  "cancel", "retry_reset", "create_tree", "insert_events", "finish_completed",
  "pause", "decide", "approval_delete", "list_approvals",
] as const;
type FileName = (typeof FILES)[number] | "claim" | "claim_tree" | "finish_commit";

let FILE_STMTS: Record<FileName, Stmt> | undefined;
function fileStmts(): Record<FileName, Stmt> {
  FILE_STMTS ??= {
    ...(Object.fromEntries(FILES.map((f) => [f, fileStmt(f)])) as Record<(typeof FILES)[number], Stmt>),
    claim: claimStmt("claim"),
    claim_tree: claimStmt("claim_tree"),
    finish_commit: finishCommitStmt(),
  };
  return FILE_STMTS;
}

/** Scope matched on whole path segments (DESIGN §8): never LIKE. */
const SCOPE_SQL = "(:scope::text = '' OR owner = :scope::text OR starts_with(owner, :scope::text || '/'))";

const inline = new Map<string, Stmt>();
/** A named statement written here (reads, mostly); cached so its text is compiled once. */
function q(name: string, sql: string): Stmt {
  let s = inline.get(name);
  if (!s) {
    s = compile(name, sql);
    inline.set(name, s);
  }
  return s;
}

// bigint (epoch ms, counts, seq) as a JS number, like SQLite returns them: every value we store
// is far below 2^53. Per pool, so that the application's own `pg` type parsers stay untouched.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8 && format !== "binary") return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as "text");
  },
};

function toTask(r: Row): Task {
  return {
    id: r.id,
    tree_id: r.tree_id,
    parent_id: r.parent_id,
    name: r.name,
    executor: r.executor,
    inputs: r.inputs,
    dependencies: r.dependencies,
    priority: r.priority,
    retry: r.retry,
    timeout_ms: r.timeout_ms,
    lease_ms: r.lease_ms ?? null,
    placement: r.placement,
    owner: r.owner,
    status: r.status,
    result: r.result ?? null,
    error: r.error ?? null,
    attempts: r.attempts,
    run_after: r.run_after,
    lease_owner: r.lease_owner,
    lease_expires_at: r.lease_expires_at,
    created_at: r.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
  };
}

function toTree(r: Row): Tree {
  return {
    id: r.id,
    name: r.name,
    owner: r.owner,
    inputs: r.inputs,
    root_id: r.root_id,
    status: r.status,
    created_at: r.created_at,
    finished_at: r.finished_at,
  };
}

const byTaskOrder = (a: Task, b: Task) => a.priority - b.priority || a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** An event of the running transaction, inserted (and given its seq) just before COMMIT. */
type PendingEvent = Omit<GroveEvent, "seq">;

/** A task that just became terminal, whose dependents and tree must be updated. */
interface Done {
  id: string;
  tree_id: string;
  name: string;
  status: TaskStatus;
}

type Client = pg.PoolClient;

const isRetryable = (err: unknown): boolean => {
  const code = (err as { code?: string }).code;
  return code === "40P01" || code === "40001";
};

/**
 * Events inserted by one statement, in the order given, with their seqs: nextval runs in
 * insertion order (the statements order their rows), so the ascending seqs belong to the events
 * in that order.
 */
function withSeqs(pending: readonly PendingEvent[], rows: readonly Row[], key = "seq"): GroveEvent[] {
  const seqs = rows.map((r) => r[key] as number).sort((a, b) => a - b);
  return pending.map((e, i) => ({ seq: seqs[i]!, ...e }));
}

export interface PostgresStoreOptions {
  /**
   * Connections in this process's pool (default GROVE_PG_POOL_SIZE, else 10); the LISTEN
   * connection comes on top. See docs/postgres.md for sizing.
   */
  poolSize?: number;
  /** Clock (epoch ms); tests pin it. Lease times compare against this, not the server's clock. */
  now?: () => number;
  /** Extra `pg.Pool` settings (ssl, timeouts, application_name, …). */
  pool?: Omit<pg.PoolConfig, "connectionString" | "max" | "types">;
}

/**
 * PostgreSQL store (`pg`). Open with `await PostgresStore.open(url, {poolSize})`: migrations are
 * applied at open under an advisory lock, so several processes may start at once.
 */
export class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  readonly bus = new EventBus();
  readonly pool: pg.Pool;
  private readonly now: () => number;
  private readonly st = fileStmts();
  private readonly rootOf = new Map<string, string>();
  private readonly waiters = new Set<() => void>();
  /** A wake-up arrived while nobody waited: the next waitForWork returns at once. */
  private missedWake = false;
  private listener: Promise<pg.Client | undefined> | undefined;
  private listenerGen = 0;
  /** Set once the schedules are watched: NOTIFYs on SCHEDULES_CHANNEL go there. */
  private onSchedulesNotify: (() => void) | undefined;
  /** The LISTEN on SCHEDULES_CHANNEL, for the listener connection of generation `gen`. */
  private schedulesListen: { gen: number; done: Promise<boolean> } | undefined;
  private closed = false;

  private constructor(
    private readonly url: string,
    private readonly opts: PostgresStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.pool = new pg.Pool({
      application_name: "grove",
      idleTimeoutMillis: 30_000,
      ...opts.pool,
      connectionString: url,
      max: opts.poolSize ?? defaultPoolSize(),
      types,
      // Pipeline mode: a query is written as soon as it is issued, without waiting for the
      // previous one's answer. tx() sends BEGIN with the first statement and the events,
      // NOTIFY and COMMIT together, so a transaction costs one round trip more than its own
      // statements instead of three or four. Queries awaited one by one behave as before.
      pipeline: true,
    });
    // An idle connection that dies (server restart, network) must not crash the process: the
    // pool drops it and the next query opens a new one.
    this.pool.on("error", () => undefined);
  }

  private scheduleStore?: PostgresSchedules;
  /** The schedules kept in this database (DESIGN §7). */
  schedules(): ScheduleStore {
    return (this.scheduleStore ??= new PostgresSchedules(this.pool, this.now, (fn) => this.listenSchedules(fn)));
  }

  /**
   * LISTENs on the schedules channel too, on this store's LISTEN connection (reopened when it
   * broke). After each new LISTEN, `onNotify` is called once: changes made while nobody listened
   * were not heard, so the scheduler must look.
   */
  private async listenSchedules(onNotify: () => void): Promise<boolean> {
    this.onSchedulesNotify = onNotify;
    const client = await this.listen();
    if (!client) return false;
    const gen = this.listenerGen;
    if (this.schedulesListen?.gen !== gen) {
      this.schedulesListen = {
        gen,
        done: client.query(`LISTEN ${SCHEDULES_CHANNEL}`).then(
          () => {
            onNotify();
            return true;
          },
          () => false,
        ),
      };
    }
    return this.schedulesListen.done;
  }

  private machineStore?: PostgresMachines;
  /** The machines registered in this database (DESIGN §9). */
  machines(): MachineStore {
    return (this.machineStore ??= new PostgresMachines(this.pool));
  }

  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, opts);
    try {
      await store.migrate();
    } catch (err) {
      await store.pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  /**
   * Applies the numbered migrations not yet applied, each in its own transaction, all under a
   * session advisory lock: processes starting at once wait for the first one instead of racing
   * on CREATE TABLE.
   */
  private async migrate(): Promise<void> {
    const dir = join(here, "migrations");
    const files = readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
    // The common case, every migration applied already, is one read without the lock: workers
    // starting together would otherwise queue on the advisory lock one after the other.
    if (await this.applied(files)) return;
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
      try {
        await c.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)");
        const done = new Set((await c.query("SELECT version FROM schema_migrations")).rows.map((r: Row) => r.version as number));
        for (const file of files) {
          const version = Number.parseInt(file, 10);
          if (done.has(version)) continue;
          await c.query("BEGIN");
          try {
            await c.query(readFileSync(join(dir, file), "utf8"));
            await c.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [version, Date.now()]);
            await c.query("COMMIT");
          } catch (err) {
            await c.query("ROLLBACK").catch(() => undefined);
            throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
          }
        }
      } finally {
        await c.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch((e: Error) => {
          broken = e;
        });
      }
    } catch (err) {
      broken ??= err as Error;
      throw err;
    } finally {
      // A connection in doubt is destroyed (which also drops a session lock it may still hold).
      c.release(broken);
    }
  }

  /** Whether every migration file is recorded as applied (false when the table is missing). */
  private async applied(files: string[]): Promise<boolean> {
    const rows = await this.pool.query("SELECT version FROM schema_migrations").then(
      (r) => r.rows as Row[],
      () => null,
    );
    if (!rows) return false;
    const done = new Set(rows.map((r) => r.version as number));
    return files.every((f) => done.has(Number.parseInt(f, 10)));
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private async run(c: pg.ClientBase | pg.Pool, s: Stmt, values: Record<string, unknown> = {}): Promise<Row[]> {
    const args = s.params.map((p) => {
      const v = values[p];
      if (v === undefined) throw new Error(`${s.name}: no value for :${p}`);
      return v;
    });
    const res = await c.query({ name: s.name, text: s.text, values: args });
    return res.rows as Row[];
  }

  /**
   * Runs `fn` in a transaction. The events it collects are inserted in one statement just before
   * COMMIT, trees that got ready tasks are NOTIFYed (delivered at commit), and after the commit
   * the events are published on `bus` and local waiters woken.
   *
   * Round trips (the connection is in pipeline mode): BEGIN goes out with fn's first statement,
   * and the events insert, NOTIFY and COMMIT go out together. A statement that fails aborts the
   * transaction, so the statements behind it fail too and the COMMIT rolls back; the first error
   * is thrown. Events that fn's own statements inserted (finishAndClaim's claim) go in
   * `inserted`, and are published before the others.
   */
  private async tx<T>(fn: (c: Client, events: PendingEvent[], inserted: GroveEvent[]) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.pool.connect();
      const pending: PendingEvent[] = [];
      const inserted: GroveEvent[] = [];
      let out: T;
      let events: GroveEvent[];
      let readyTrees: string[];
      const begin = c.query("BEGIN");
      begin.catch(() => undefined); // awaited below; fn may throw first
      try {
        out = await fn(c, pending, inserted);
        await begin;
        readyTrees = [...new Set(pending.filter(makesReady).map((e) => e.tree_id))];
        // Issued in this order without awaiting in between: pipeline mode keeps the order.
        const sent: Promise<unknown>[] = [
          this.insertEvents(c, pending),
          readyTrees.length > 0 ? this.run(c, q("notify_ready", `SELECT pg_notify('${READY_CHANNEL}', t) FROM unnest(:trees::text[]) AS t`), { trees: readyTrees }) : Promise.resolve(),
          c.query("COMMIT"),
        ];
        const settled = await Promise.allSettled(sent);
        const failed = settled.find((r) => r.status === "rejected");
        if (failed) throw (failed as PromiseRejectedResult).reason;
        events = [...inserted, ...(settled[0] as PromiseFulfilledResult<GroveEvent[]>).value];
      } catch (err) {
        let broken: Error | undefined;
        await begin.catch(() => undefined);
        await c.query("ROLLBACK").catch((e: Error) => {
          broken = e;
        });
        c.release(broken);
        if (isRetryable(err) && attempt < TX_RETRIES) continue;
        throw err;
      }
      c.release();
      this.bus.emit(events);
      if (readyTrees.length > 0) this.wake();
      return out;
    }
  }

  /**
   * One statement in autocommit (its own transaction), run again on a deadlock or serialisation
   * failure like tx().
   */
  private async autocommit(s: Stmt, values: Record<string, unknown>): Promise<Row[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.run(this.pool, s, values);
      } catch (err) {
        if (isRetryable(err) && attempt < TX_RETRIES) continue;
        throw err;
      }
    }
  }

  private async insertEvents(c: Client, pending: PendingEvent[]): Promise<GroveEvent[]> {
    if (pending.length === 0) return [];
    // Payloads travel as JSON text inside the batch (cast to json in SQL): json_to_recordset
    // would refuse a \u0000 escape in a nested value.
    const batch = pending.map((e) => ({ tree_id: e.tree_id, task_id: e.task_id, type: e.type, data: JSON.stringify(e.data), at: e.at }));
    const rows = await this.run(c, this.st.insert_events, { events: JSON.stringify(batch) });
    return withSeqs(pending, rows);
  }

  // ---- events -------------------------------------------------------------------------------

  async appendEvents(newEvents: readonly NewEvent[]): Promise<void> {
    if (newEvents.length === 0) return;
    const now = this.now();
    await this.tx(async (_c, events) => {
      for (const e of newEvents) events.push({ tree_id: e.tree_id, task_id: e.task_id, type: e.type, data: e.data ?? {}, at: e.at ?? now });
    });
  }

  async events(f: EventFilter): Promise<GroveEvent[]> {
    const where: string[] = ["seq > :after::bigint"];
    if (f.treeId) where.push("tree_id = :tree_id::text");
    if (f.taskId) where.push("task_id = :task_id::text");
    if (f.scope) where.push(`tree_id IN (SELECT id FROM trees WHERE ${SCOPE_SQL})`);
    const variant = `${f.treeId ? "r" : ""}${f.taskId ? "k" : ""}${f.scope ? "s" : ""}`;
    const s = q(`events_${variant}`, `SELECT seq, tree_id, task_id, type, data, at FROM events WHERE ${where.join(" AND ")} ORDER BY seq LIMIT :limit::bigint`);
    const rows = await this.run(this.pool, s, {
      after: f.afterSeq ?? 0,
      tree_id: f.treeId ?? null,
      task_id: f.taskId ?? null,
      scope: normalizeScope(f.scope),
      limit: f.limit ?? 1_000_000,
    });
    return rows.map((r) => ({ seq: r.seq, tree_id: r.tree_id, task_id: r.task_id, type: r.type, data: r.data, at: r.at }));
  }

  // ---- trees and tasks ----------------------------------------------------------------------

  async createTree(tree: NewTree): Promise<Tree> {
    const now = this.now();
    const owner = normalizeScope(tree.owner);
    const tasks = tree.tasks.map((t) => ({
      id: t.id,
      parent_id: t.parent_id,
      name: t.name,
      executor: t.executor,
      inputs: JSON.stringify(t.inputs),
      dependencies: t.dependencies,
      priority: t.priority,
      retry: t.retry,
      timeout_ms: t.timeout_ms,
      lease_ms: t.lease_ms ?? null,
      placement: t.placement ?? {},
      status: (t.dependencies.length === 0 ? "ready" : "pending") as TaskStatus,
      deps_waiting: t.dependencies.length,
    }));
    const deps = tree.tasks.flatMap((t) => t.dependencies.map((d) => ({ dep_id: d.task, task_id: t.id, required: d.required })));
    // One statement: tree, tasks, edges, events and NOTIFY (create_tree.sql).
    const [row] = await this.autocommit(this.st.create_tree, {
      id: tree.id,
      name: tree.name,
      owner,
      inputs: JSON.stringify(tree.inputs ?? {}),
      root_id: tree.root_id,
      now,
      tasks: JSON.stringify(tasks),
      deps: JSON.stringify(deps),
    });
    this.rootOf.set(tree.id, tree.root_id);
    // One event per task: its initial status says whether it is ready.
    const created: PendingEvent[] = tasks.map((t) => ({ tree_id: tree.id, task_id: t.id, type: "task.created", data: { name: t.name, executor: t.executor, status: t.status }, at: now }));
    this.bus.emit(withSeqs(created, (row!.seqs as number[]).map((seq) => ({ seq }))));
    if (Number(row!.woken) > 0) this.wake();
    return toTree(row!);
  }

  async getTree(id: string, scope?: string): Promise<Tree | undefined> {
    const rows = await this.run(this.pool, q("get_tree", `SELECT * FROM trees WHERE id = :id::text AND ${SCOPE_SQL}`), { id, scope: normalizeScope(scope) });
    return rows[0] ? toTree(rows[0]) : undefined;
  }

  async listTrees(f: TreeFilter = {}): Promise<Tree[]> {
    const variant = f.status ? "s" : "";
    const s = q(
      `list_trees_${variant}`,
      `SELECT * FROM trees WHERE ${SCOPE_SQL}${f.status ? " AND status = :status::text" : ""} ORDER BY created_at DESC, id DESC LIMIT :limit::bigint`,
    );
    const rows = await this.run(this.pool, s, { scope: normalizeScope(f.scope), status: f.status ?? null, limit: f.limit ?? 100 });
    return rows.map(toTree);
  }

  async getTask(id: string, scope?: string): Promise<Task | undefined> {
    const rows = await this.run(this.pool, q("get_task", `SELECT * FROM tasks WHERE id = :id::text AND ${SCOPE_SQL}`), { id, scope: normalizeScope(scope) });
    return rows[0] ? toTask(rows[0]) : undefined;
  }

  async getTasks(ids: readonly string[]): Promise<Task[]> {
    if (ids.length === 0) return [];
    const s = q("get_tasks", "SELECT t.* FROM unnest(:ids::text[]) WITH ORDINALITY AS i(id, n) JOIN tasks t ON t.id = i.id ORDER BY i.n");
    return (await this.run(this.pool, s, { ids: [...ids] })).map(toTask);
  }

  async listTasks(f: TaskFilter = {}): Promise<Task[]> {
    const where = [SCOPE_SQL];
    if (f.treeId) where.push("tree_id = :tree_id::text");
    if (f.status) where.push("status = :status::text");
    if (f.executor) where.push("executor = :executor::text");
    const variant = `${f.treeId ? "r" : ""}${f.status ? "s" : ""}${f.executor ? "e" : ""}`;
    const s = q(`list_tasks_${variant}`, `SELECT * FROM tasks WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT :limit::bigint OFFSET :offset::bigint`);
    const rows = await this.run(this.pool, s, {
      scope: normalizeScope(f.scope),
      tree_id: f.treeId ?? null,
      status: f.status ?? null,
      executor: f.executor ?? null,
      limit: f.limit ?? 100,
      offset: f.offset ?? 0,
    });
    return rows.map(toTask);
  }

  async dependencyOutcomes(ids: readonly string[]): Promise<DependencyRow[]> {
    if (ids.length === 0) return [];
    const s = q("dependency_outcomes", "SELECT id, name, status, result, error FROM tasks WHERE id = ANY(:ids::text[])");
    return (await this.run(this.pool, s, { ids: [...ids] })).map((r) => ({ id: r.id, name: r.name, status: r.status, result: r.result ?? null, error: r.error ?? null }));
  }

  async treeTasks(treeId: string, scope?: string): Promise<TaskSummaryRow[]> {
    const s = q(
      "tree_tasks",
      `SELECT id, name, status, result, error, executor, parent_id, attempts, created_at, started_at, finished_at
       FROM tasks WHERE tree_id = :tree_id::text AND ${SCOPE_SQL} ORDER BY created_at, id`,
    );
    return (await this.run(this.pool, s, { tree_id: treeId, scope: normalizeScope(scope) })).map((r) => ({
      id: r.id,
      name: r.name,
      status: r.status,
      result: r.result ?? null,
      error: r.error ?? null,
      executor: r.executor,
      parent_id: r.parent_id,
      attempts: r.attempts,
      created_at: r.created_at,
      started_at: r.started_at,
      finished_at: r.finished_at,
    }));
  }

  async treeCounts(treeId: string): Promise<Partial<Record<TaskStatus, number>>> {
    const rows = await this.run(this.pool, q("tree_counts", "SELECT status, count(*) AS n FROM tasks WHERE tree_id = :tree_id::text GROUP BY status"), { tree_id: treeId });
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  // ---- the hot path -------------------------------------------------------------------------

  async claim(o: ClaimOptions): Promise<ClaimedTask[]> {
    // One statement in autocommit (claim_start.sql): no BEGIN/COMMIT round trips, and a claim
    // that finds nothing writes nothing.
    const now = o.now ?? this.now();
    const { tasks, events } = this.claimed(await this.autocommit(this.claimStmt(o), this.claimValues(o, now)), o, now);
    this.bus.emit(events);
    return tasks;
  }

  async finishAndClaim(outcomes: readonly Outcome[], opts: { events?: readonly NewEvent[]; claim?: ClaimOptions }): Promise<{ accepted: boolean[]; claimed: ClaimedTask[] }> {
    if (outcomes.length > 0 && outcomes.every((o) => o.kind === "completed")) {
      try {
        return await this.finishAndClaimInOneTrip(outcomes, opts);
      } catch (err) {
        // GR001: finish_commit.sql found a case for the general path below (nothing was kept).
        if ((err as { code?: string }).code !== "GR001") throw err;
      }
    }
    return this.finishAndClaimInTx(outcomes, opts);
  }

  /**
   * finishAndClaim for a batch of successes in ONE round trip: BEGIN, the buffered log events,
   * the claim, finish_commit.sql (the finish with its events and NOTIFY) and COMMIT are written
   * together (pipeline mode). Nothing is decided on this side between them: finish_commit.sql
   * checks what finishIn would check and raises GR001 when the batch needs the general path, and
   * then the whole transaction rolls back. The row locks the finish takes (a tree root's) are
   * held from the finish to the COMMIT that directly follows it, not across a round trip.
   */
  private async finishAndClaimInOneTrip(outcomes: readonly Outcome[], opts: { events?: readonly NewEvent[]; claim?: ClaimOptions }): Promise<{ accepted: boolean[]; claimed: ClaimedTask[] }> {
    const now = this.now();
    const o = opts.claim;
    const at = o?.now ?? now;
    const logs: PendingEvent[] = (opts.events ?? []).map((e) => ({ tree_id: e.tree_id, task_id: e.task_id, type: e.type, data: e.data ?? {}, at: e.at ?? now }));
    const batch = outcomes.map((x) => ({
      id: x.taskId,
      worker: x.workerId,
      result: JSON.stringify((x as { result: unknown }).result ?? null),
      resolved_inputs: x.resolvedInputs ? JSON.stringify(x.resolvedInputs) : null,
    }));
    for (let attempt = 1; ; attempt++) {
      const c = await this.pool.connect();
      // Written in this order without awaiting in between (each call sends its query at once).
      const sent = [
        c.query("BEGIN"),
        this.insertEvents(c, logs),
        o ? this.run(c, this.claimStmt(o), this.claimValues(o, at, outcomes)) : Promise.resolve([]),
        this.run(c, this.st.finish_commit, { now, outcomes: JSON.stringify(batch) }),
        c.query("COMMIT"),
      ] as const;
      const settled = await Promise.allSettled(sent);
      const failed = settled.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
      if (failed) {
        // A failed statement aborted the transaction and the COMMIT rolled it back.
        let broken: Error | undefined;
        await c.query("ROLLBACK").catch((e: Error) => {
          broken = e;
        });
        c.release(broken);
        if (isRetryable(failed.reason) && attempt < TX_RETRIES) continue;
        throw failed.reason;
      }
      c.release();
      const value = <V>(i: number) => (settled[i] as PromiseFulfilledResult<V>).value;
      const claimed = o ? this.claimed(value<Row[]>(2), o, at) : { tasks: [], events: [] };
      const fin = value<Row[]>(3)[0]!;
      const finished = ((fin.events ?? []) as GroveEvent[]).map((e) => ({ ...e, at: now }));
      this.bus.emit([...value<GroveEvent[]>(1), ...claimed.events, ...finished].sort((x, y) => x.seq - y.seq));
      if (Number(fin.woken) > 0) this.wake();
      // Every outcome was accepted (else GR001); a task listed twice is finished once.
      const seen = new Set<string>();
      const accepted = outcomes.map((x) => !seen.has(x.taskId) && Boolean(seen.add(x.taskId)));
      return { accepted, claimed: claimed.tasks };
    }
  }

  private async finishAndClaimInTx(outcomes: readonly Outcome[], opts: { events?: readonly NewEvent[]; claim?: ClaimOptions }): Promise<{ accepted: boolean[]; claimed: ClaimedTask[] }> {
    const now = this.now();
    const o = opts.claim;
    return this.tx(async (c, events, inserted) => {
      // The claim goes first, in the same round trip as BEGIN and the finish's first statement
      // (pipeline mode). The finish takes the row locks other workers wait for — a tree root's,
      // which every completion in the tree decrements — so the claim should not run while they
      // are held: they are held from the finish to the COMMIT, which follows it directly. The
      // cost: a dependent this finish releases is claimed by the next claim, not by this one.
      const at = o?.now ?? now;
      const claim = o ? this.run(c, this.claimStmt(o), this.claimValues(o, at, outcomes)) : Promise.resolve([]);
      claim.catch(() => undefined); // awaited below; the finish may throw first
      for (const e of opts.events ?? []) events.push({ tree_id: e.tree_id, task_id: e.task_id, type: e.type, data: e.data ?? {}, at: e.at ?? now });
      let accepted: boolean[];
      try {
        accepted = outcomes.length > 0 ? await this.finishIn(c, events, outcomes, now) : [];
      } finally {
        await claim.catch(() => undefined);
      }
      const r = o ? this.claimed(await claim, o, at) : { tasks: [], events: [] };
      inserted.push(...r.events);
      return { accepted, claimed: r.tasks };
    });
  }

  private claimStmt(o: ClaimOptions): Stmt {
    return o.treeId ? this.st.claim_tree : this.st.claim;
  }

  /** `exclude`: the tasks of the batch the same transaction finishes (claimed before it). */
  private claimValues(o: ClaimOptions, now: number, exclude: readonly Outcome[] = []): Record<string, unknown> {
    return { worker: o.workerId, now, lease_ms: o.leaseMs, tree_id: o.treeId ?? null, labels: JSON.stringify(o.labels ?? {}), limit: o.limit, exclude: exclude.map((x) => x.taskId) };
  }

  /** The rows of claim_start.sql as tasks (with ctx.resume) in claim order, and their task.started events. */
  private claimed(rows: Row[], o: ClaimOptions, now: number): { tasks: ClaimedTask[]; events: GroveEvent[] } {
    const tasks = rows
      .map((r): ClaimedTask => {
        const t: ClaimedTask = toTask(r);
        t.tree = { id: r.tree_id, name: r.tree_name, inputs: r.tree_inputs };
        if (r.resume_decision) t.resume = resumeOf({ decision: r.resume_decision, decided_by: r.resume_by, reason: r.resume_reason }, r.resume_request, r.resume_state);
        return t;
      })
      .sort(byTaskOrder);
    const started = tasks.map((t): PendingEvent => ({ tree_id: t.tree_id, task_id: t.id, type: "task.started", data: { name: t.name, attempt: t.attempts, worker: o.workerId }, at: now }));
    return { tasks, events: withSeqs(started, rows, "started_seq") };
  }

  async finish(outcomes: readonly Outcome[]): Promise<boolean[]> {
    if (outcomes.length === 0) return [];
    const now = this.now();
    return this.tx(async (c, events) => this.finishIn(c, events, outcomes, now));
  }

  private async finishIn(c: Client, events: PendingEvent[], outcomes: readonly Outcome[], now: number): Promise<boolean[]> {
    if (outcomes.every((o) => o.kind === "completed")) return this.finishCompleted(c, events, outcomes, now);
    {
      // Index of each outcome → the row its transition returned (accepted outcomes only).
      const accepted = new Map<number, Row>();
      const apply = async (stmt: Stmt, picked: number[], toJson: (o: Outcome) => Record<string, unknown>) => {
        if (picked.length === 0) return;
        const rows = await this.run(c, stmt, { now, outcomes: JSON.stringify(picked.map((i) => ({ id: outcomes[i]!.taskId, worker: outcomes[i]!.workerId, ...toJson(outcomes[i]!) }))) });
        const byId = new Map(rows.map((r) => [r.id as string, r]));
        for (const i of picked) {
          const r = byId.get(outcomes[i]!.taskId);
          if (!r) continue;
          byId.delete(outcomes[i]!.taskId); // a task listed twice is finished once
          accepted.set(i, r);
        }
      };
      const kinds = outcomes.map((o) => (o.kind === "completed" ? "complete" : o.kind === "waiting_approval" ? "pause" : o.kind === "failed" && o.retryAt !== undefined ? "retry" : "fail"));
      const idx = (k: string) => kinds.flatMap((x, i) => (x === k ? [i] : []));
      await apply(this.st.complete, idx("complete"), (o) => ({ result: JSON.stringify((o as { result: unknown }).result ?? null) }));
      await apply(this.st.retry, idx("retry"), (o) => ({ error: JSON.stringify((o as { error: TaskError }).error), run_after: (o as { retryAt: number }).retryAt }));
      await apply(this.st.fail, idx("fail"), (o) => ({ error: JSON.stringify((o as { error: TaskError }).error), status: o.kind === "cancelled" ? "cancelled" : "failed" }));
      await apply(this.st.pause, idx("pause"), (o) => {
        const p = o as Extract<Outcome, { kind: "waiting_approval" }>;
        return { request: JSON.stringify(p.request), state: JSON.stringify(p.state ?? null) };
      });

      const result = outcomes.map((_o, i) => accepted.has(i));
      await this.checkRefused(c, outcomes, result);

      const attemptRows: Record<string, unknown>[] = [];
      const done: Done[] = [];
      for (const [i, row] of [...accepted].sort((a, b) => a[0] - b[0])) {
        const o = outcomes[i]!;
        const attempt = row.attempts as number;
        const kind = kinds[i];
        const outcome: Attempt["outcome"] =
          kind === "complete" ? "completed" : kind === "retry" ? "retrying" : kind === "pause" ? "waiting_approval" : (row.status as "failed" | "cancelled");
        const error = o.kind === "completed" || o.kind === "waiting_approval" ? null : o.error;
        attemptRows.push({ task_id: o.taskId, attempt, outcome, resolved_inputs: o.resolvedInputs ? JSON.stringify(o.resolvedInputs) : null, error: error ? JSON.stringify(error) : null });
        const base = { tree_id: row.tree_id as string, task_id: o.taskId, at: now };
        if (o.kind === "waiting_approval") {
          // Not terminal: the tree stays running, dependents keep waiting.
          events.push({ ...base, type: "task.waiting_approval", data: { name: row.name, attempt, request: o.request } });
          continue;
        }
        if (outcome === "retrying") {
          events.push({ ...base, type: "task.retrying", data: { name: row.name, attempt, error, run_after: (o as { retryAt: number }).retryAt } });
          continue;
        }
        if (outcome === "completed") events.push({ ...base, type: "task.completed", data: { name: row.name, attempt } });
        else events.push({ ...base, type: outcome === "cancelled" ? "task.cancelled" : "task.failed", data: { name: row.name, attempt, error } });
        done.push({ id: o.taskId, tree_id: row.tree_id, name: row.name, status: outcome });
      }
      if (attemptRows.length > 0) await this.run(c, this.st.finish_attempt, { now, rows: JSON.stringify(attemptRows) });
      await this.afterTerminal(c, done, now, events);
      return result;
    }
  }

  /**
   * finishIn for a batch of successes only: finish_completed.sql completes them, closes their
   * attempts, completes the trees they are the root of and releases their dependents in one
   * statement. Only dependents it skipped (a dependency failed earlier) need further levels.
   */
  private async finishCompleted(c: Client, events: PendingEvent[], outcomes: readonly Outcome[], now: number): Promise<boolean[]> {
    const batch = outcomes.map((o) => ({
      id: o.taskId,
      worker: o.workerId,
      result: JSON.stringify((o as { result: unknown }).result ?? null),
      resolved_inputs: o.resolvedInputs ? JSON.stringify(o.resolvedInputs) : null,
    }));
    const rows = await this.run(c, this.st.finish_completed, { now, outcomes: JSON.stringify(batch) });
    const byId = new Map(rows.filter((r) => r.kind === "done").map((r) => [r.id as string, r]));
    const accepted: Row[] = [];
    const result = outcomes.map((o) => {
      const r = byId.get(o.taskId);
      if (!r) return false;
      byId.delete(o.taskId); // a task listed twice is finished once
      accepted.push(r);
      return true;
    });
    await this.checkRefused(c, outcomes, result);
    for (const r of accepted) events.push({ tree_id: r.tree_id, task_id: r.id, type: "task.completed", data: { name: r.name, attempt: r.attempts }, at: now });
    for (const t of rows.filter((r) => r.kind === "tree")) events.push({ tree_id: t.id, task_id: null, type: "tree.completed", data: { root_status: "completed" }, at: now });
    const skipped = this.releasedEvents(rows.filter((r) => r.kind === "released"), now, events);
    await this.afterTerminal(c, skipped, now, events);
    return result;
  }

  /**
   * Why outcomes of a finish batch were refused: a lost lease (cancelled, or expired and
   * re-claimed) is a legitimate race; anything else throws, which rolls the transaction back.
   */
  private async checkRefused(c: Client, outcomes: readonly Outcome[], result: readonly boolean[]): Promise<void> {
    const refused = result.flatMap((ok, i) => (ok ? [] : [i]));
    if (refused.length === 0) return;
    const why = await this.run(c, this.st.finish_refused, { refused: JSON.stringify(refused.map((i) => ({ n: i, id: outcomes[i]!.taskId, worker: outcomes[i]!.workerId }))) });
    for (const w of why) {
      const o = outcomes[w.n as number]!;
      if (w.status === null) throw new NotFoundError(`task ${o.taskId} not found`);
      if (w.status === "cancelled" || (w.status === "running" && w.lease_owner !== o.workerId)) continue;
      if (w.held_before) continue;
      throw new IllegalTransitionError(o.taskId, w.status, o.kind);
    }
  }

  /** Events of one level of released dependents (by id); returns the skipped ones, the next level. */
  private releasedEvents(released: Row[], now: number, events: PendingEvent[]): Done[] {
    released.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const next: Done[] = [];
    for (const r of released) {
      if (r.status === "ready") {
        events.push({ tree_id: r.tree_id, task_id: r.id, type: "task.ready", data: {}, at: now });
      } else if (r.status === "skipped") {
        events.push({ tree_id: r.tree_id, task_id: r.id, type: "task.skipped", data: { name: r.name, error: r.error }, at: now });
        next.push({ id: r.id, tree_id: r.tree_id, name: r.name, status: "skipped" });
      }
    }
    return next;
  }

  /**
   * Tasks reached a terminal status: finish the trees whose root they are, and release their
   * dependents (ready, or skipped transitively when a required dependency did not complete),
   * one set-based statement per level of the DAG, in the caller's transaction.
   */
  private async afterTerminal(c: Client, done: Done[], now: number, events: PendingEvent[]): Promise<void> {
    let level = done;
    while (level.length > 0) {
      const roots = await this.rootsAmong(c, level);
      if (roots.length > 0) {
        const trees = await this.run(c, this.st.finish_tree, { now, roots: JSON.stringify(roots.map((d) => ({ id: d.id, tree_id: d.tree_id, status: d.status }))) });
        for (const t of trees) events.push({ tree_id: t.id, task_id: null, type: `tree.${t.status}` as GroveEvent["type"], data: { root_status: t.root_status }, at: now });
      }
      const released = await this.run(c, this.st.release_dependents, { now, done: JSON.stringify(level.map((d) => ({ id: d.id, name: d.name, ok: d.status === "completed" }))) });
      level = this.releasedEvents(released, now, events);
    }
  }

  /** The tasks of `level` that are the root of their tree (tree roots are cached: they never change). */
  private async rootsAmong(c: Client, level: Done[]): Promise<Done[]> {
    const unknown = [...new Set(level.filter((d) => !this.rootOf.has(d.tree_id)).map((d) => d.tree_id))];
    if (unknown.length > 0) {
      const rows = await this.run(c, q("tree_roots", "SELECT id, root_id FROM trees WHERE id = ANY(:ids::text[])"), { ids: unknown });
      for (const r of rows) this.rootOf.set(r.id, r.root_id);
    }
    return level.filter((d) => this.rootOf.get(d.tree_id) === d.id);
  }

  async heartbeat(workerId: string, taskIds: readonly string[], leaseMs: number): Promise<string[]> {
    if (taskIds.length === 0) return [];
    const rows = await this.run(this.pool, this.st.heartbeat, { worker: workerId, ids: [...taskIds], now: this.now(), lease_ms: leaseMs });
    return rows.map((r) => r.id);
  }

  async stillHeld(workerId: string, taskIds: readonly string[]): Promise<string[]> {
    if (taskIds.length === 0) return [];
    return (await this.run(this.pool, this.st.still_held, { worker: workerId, ids: [...taskIds] })).map((r) => r.id);
  }

  async release(workerId: string, taskIds: readonly string[]): Promise<number> {
    if (taskIds.length === 0) return 0;
    const now = this.now();
    return this.tx(async (c, events) => {
      const rows = await this.run(c, this.st.release, { worker: workerId, ids: [...taskIds], now });
      if (rows.length === 0) return 0;
      await this.run(c, this.st.finish_attempt, {
        now,
        rows: JSON.stringify(rows.map((r) => ({ task_id: r.id, attempt: r.attempts, outcome: "lost", resolved_inputs: null, error: null }))),
      });
      for (const r of rows) events.push({ tree_id: r.tree_id, task_id: r.id, type: "task.ready", data: { name: r.name, reason: "released" }, at: now });
      return rows.length;
    });
  }

  async recoverExpired(now = this.now()): Promise<number> {
    // Cheap check first: most calls find nothing and should not open a write transaction.
    const any = await this.run(this.pool, q("any_expired", "SELECT 1 FROM tasks WHERE status = 'running' AND lease_expires_at < :now::bigint LIMIT 1"), { now });
    if (any.length === 0) return 0;
    return this.tx(async (c, events) => {
      const recovered = await this.run(c, this.st.recover_expired, { now, max_expiries: MAX_LEASE_EXPIRIES });
      for (const r of recovered) {
        events.push({ tree_id: r.tree_id, task_id: r.id, type: "task.retrying", data: { name: r.name, attempt: r.attempts, reason: "lease_expired" }, at: now });
        events.push({ tree_id: r.tree_id, task_id: r.id, type: "task.ready", data: { reason: "lease_expired" }, at: now });
      }
      const error: TaskError = { type: "executor_error", message: `the worker running this task stopped heartbeating ${MAX_LEASE_EXPIRIES} times in a row` };
      const failed = await this.run(c, this.st.fail_expired, { now, max_expiries: MAX_LEASE_EXPIRIES, error: JSON.stringify(error) });
      const attemptRows = [
        ...recovered.map((r) => ({ task_id: r.id, attempt: r.attempts, outcome: "lease_expired", resolved_inputs: null, error: null })),
        ...failed.map((r) => ({ task_id: r.id, attempt: r.attempts, outcome: "lease_expired", resolved_inputs: null, error: JSON.stringify(error) })),
      ];
      if (attemptRows.length > 0) await this.run(c, this.st.finish_attempt, { now, rows: JSON.stringify(attemptRows) });
      for (const r of failed) events.push({ tree_id: r.tree_id, task_id: r.id, type: "task.failed", data: { name: r.name, attempt: r.attempts, error }, at: now });
      await this.afterTerminal(c, failed.map((r) => ({ id: r.id, tree_id: r.tree_id, name: r.name, status: "failed" })), now, events);
      return recovered.length + failed.length;
    });
  }

  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || this.closed) return resolve();
      if (this.missedWake) {
        this.missedWake = false;
        return resolve();
      }
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
      void this.listen();
    });
  }

  /** Wakes every waiter (or remembers the wake-up for the next one). */
  private wake(): void {
    if (this.waiters.size === 0) {
      this.missedWake = true;
      return;
    }
    for (const w of [...this.waiters]) w();
  }

  /**
   * The LISTEN connection, opened on the first waitForWork and kept for the store's lifetime.
   * It is a plain client outside the pool (it holds no transaction and must never be handed out
   * for queries). When it breaks, the next waitForWork opens a new one; meanwhile the waiters'
   * timeouts are the backstop.
   */
  private listen(): Promise<pg.Client | undefined> {
    if (this.listener) return this.listener;
    const gen = ++this.listenerGen;
    const client = new pg.Client({ application_name: "grove-listen", ...this.opts.pool, connectionString: this.url, types });
    const forget = () => {
      if (this.listenerGen === gen) this.listener = undefined;
    };
    client.on("error", () => {
      forget();
      client.end().catch(() => undefined);
    });
    client.on("end", forget);
    client.on("notification", (n) => {
      if (n.channel === READY_CHANNEL) this.wake();
      else if (n.channel === SCHEDULES_CHANNEL) this.onSchedulesNotify?.();
    });
    this.listener = (async () => {
      try {
        await client.connect();
        await client.query(`LISTEN ${READY_CHANNEL}`);
      } catch {
        forget();
        await client.end().catch(() => undefined);
        return undefined;
      }
      if (this.closed) {
        await client.end().catch(() => undefined);
        return undefined;
      }
      return client;
    })();
    return this.listener;
  }

  async nextRunAfter(treeId?: string): Promise<number | null> {
    const s = treeId
      ? q("next_run_after_tree", "SELECT min(run_after) AS t FROM tasks WHERE status = 'ready' AND tree_id = :tree_id::text")
      : q("next_run_after", "SELECT min(run_after) AS t FROM tasks WHERE status = 'ready'");
    const rows = await this.run(this.pool, s, { tree_id: treeId ?? null });
    return rows[0]?.t ?? null;
  }

  // ---- user operations ----------------------------------------------------------------------

  async cancel(id: string, opts: { scope?: string; reason?: string } = {}): Promise<number> {
    const scope = normalizeScope(opts.scope);
    const now = this.now();
    return this.tx(async (c, events) => {
      const tree = await this.run(c, q("cancel_find_tree", `SELECT id FROM trees WHERE id = :id::text AND ${SCOPE_SQL}`), { id, scope });
      let ids: string[];
      if (tree.length > 0) {
        const rows = await this.run(c, q("cancel_tree_tasks", "SELECT id FROM tasks WHERE tree_id = :id::text AND status IN ('pending','ready','running','waiting_approval')"), { id });
        ids = rows.map((r) => r.id);
      } else {
        const task = await this.run(c, q("cancel_find_task", `SELECT id, status FROM tasks WHERE id = :id::text AND ${SCOPE_SQL} FOR UPDATE`), { id, scope });
        if (task.length === 0) throw new NotFoundError(`no task or tree ${id}`);
        if (isTerminal(task[0]!.status)) throw new IllegalTransitionError(id, task[0]!.status, "cancelled");
        ids = [id];
      }
      if (ids.length === 0) return 0;
      const error: TaskError = { type: "cancelled", message: opts.reason ?? "cancelled by user" };
      // Cancel everything first, then release: otherwise a parent would be skipped (its children
      // cancelled) before its own turn to be cancelled came.
      // Running attempts end here, as on SQLite (their workers' late outcomes are refused).
      await this.run(
        c,
        q(
          "cancel_attempts",
          `UPDATE attempts a SET finished_at = :now::bigint, outcome = 'cancelled', error = :error::json
           FROM tasks t
           WHERE t.id = ANY(:ids::text[]) AND t.status = 'running' AND a.task_id = t.id AND a.attempt = t.attempts AND a.outcome = 'running'`,
        ),
        { ids, error: JSON.stringify(error), now },
      );
      const cancelled = await this.run(c, this.st.cancel, { ids, error: JSON.stringify(error), now });
      cancelled.sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (const r of cancelled) events.push({ tree_id: r.tree_id, task_id: r.id, type: "task.cancelled", data: { name: r.name, error }, at: now });
      await this.afterTerminal(c, cancelled.map((r) => ({ id: r.id, tree_id: r.tree_id, name: r.name, status: "cancelled" })), now, events);
      return cancelled.length;
    });
  }

  async retry(taskId: string, opts: { scope?: string } = {}): Promise<Task[]> {
    const scope = normalizeScope(opts.scope);
    const now = this.now();
    const reset = await this.tx(async (c, events) => {
      const found = await this.run(c, q("retry_find_task", `SELECT id, tree_id, status, dep_failed FROM tasks WHERE id = :id::text AND ${SCOPE_SQL} FOR UPDATE`), { id: taskId, scope });
      const task = found[0];
      if (!task) throw new NotFoundError(`no task ${taskId}`);
      if (!RETRYABLE.includes(task.status)) throw new IllegalTransitionError(taskId, task.status, "ready");
      if (task.status === "skipped" && task.dep_failed) {
        throw new IllegalTransitionError(taskId, task.status, "ready", `task ${taskId} was skipped because dependency "${task.dep_failed}" did not complete: retry that task instead`);
      }
      // The task and every dependent skipped because of it (transitively) start over.
      const closure = await this.run(
        c,
        q(
          "retry_closure",
          `WITH RECURSIVE r(id, depth) AS (
             SELECT :id::text COLLATE "C", 0
             UNION
             SELECT d.task_id, r.depth + 1 FROM task_deps d JOIN tasks t ON t.id = d.task_id JOIN r ON d.dep_id = r.id
             WHERE t.status = 'skipped')
           SELECT id FROM r GROUP BY id ORDER BY min(depth), id`,
        ),
        { id: taskId },
      );
      const ids = closure.map((r) => r.id as string);
      // Lock the reset tasks and their dependencies: a dependency finishing concurrently must
      // either be seen as terminal here or find the dependent pending again and release it.
      await this.run(
        c,
        q("retry_lock", "SELECT id FROM tasks WHERE id = ANY(:ids::text[]) OR id IN (SELECT dep_id FROM task_deps WHERE task_id = ANY(:ids::text[])) ORDER BY id FOR UPDATE"),
        { ids },
      );
      const waiting = await this.run(
        c,
        q(
          "retry_waiting",
          `SELECT d.task_id AS id,
                  count(*) FILTER (WHERE t.status NOT IN ('completed','failed','cancelled','skipped') OR t.id = ANY(:ids::text[])) AS waiting,
                  min(t.name) FILTER (WHERE d.required AND t.status IN ('failed','cancelled','skipped') AND NOT t.id = ANY(:ids::text[])) AS failed
           FROM task_deps d JOIN tasks t ON t.id = d.dep_id
           WHERE d.task_id = ANY(:ids::text[])
           GROUP BY d.task_id`,
        ),
        { ids },
      );
      const w = new Map(waiting.map((r) => [r.id as string, r]));
      const rows = ids.map((id) =>
        id === taskId
          ? { id, status: "ready", deps_waiting: 0, dep_failed: null }
          : { id, status: "pending", deps_waiting: w.get(id)?.waiting ?? 0, dep_failed: w.get(id)?.failed ?? null },
      );
      const updated = await this.run(c, this.st.retry_reset, { rows: JSON.stringify(rows) });
      await this.run(c, this.st.approval_delete, { ids });
      const names = new Map(updated.map((r) => [r.id as string, r]));
      for (const id of ids) {
        const r = names.get(id);
        if (!r) continue;
        const isTarget = id === taskId;
        events.push({ tree_id: r.tree_id, task_id: id, type: isTarget ? "task.ready" : "task.created", data: { name: r.name, reason: "retry" }, at: now });
      }
      await this.run(c, q("retry_tree", "UPDATE trees SET status = 'running', finished_at = NULL WHERE id = :id::text"), { id: task.tree_id });
      return ids;
    });
    return this.getTasks(reset);
  }

  async decide(taskId: string, decision: "approved" | "rejected", opts: DecideOptions = {}): Promise<Task> {
    const scope = normalizeScope(opts.scope);
    const now = this.now();
    await this.tx(async (c, events) => {
      const found = await this.run(c, q("decide_find_task", `SELECT status FROM tasks WHERE id = :id::text AND ${SCOPE_SQL} FOR UPDATE`), { id: taskId, scope });
      const task = found[0];
      if (!task) throw new NotFoundError(`no task ${taskId}`);
      if (task.status !== "waiting_approval") throw notWaiting(taskId, task.status);
      const by = opts.by ?? null;
      const reason = opts.reason ?? null;
      const [row] = await this.run(c, this.st.decide, { id: taskId, decision, by, reason, now });
      // paused without a request row: never written by this store
      if (!row?.request) throw notWaiting(taskId, task.status);
      const command = (row.request as { command?: string }).command;
      events.push({ tree_id: row.tree_id, task_id: taskId, type: `task.${decision}`, data: { name: row.name, command, by, reason }, at: now });
      events.push({ tree_id: row.tree_id, task_id: taskId, type: "task.ready", data: { name: row.name, reason: decision }, at: now });
    });
    return (await this.getTask(taskId))!;
  }

  async listApprovals(f: { scope?: string; treeId?: string; limit?: number } = {}): Promise<PendingApproval[]> {
    const rows = await this.run(this.pool, this.st.list_approvals, { scope: normalizeScope(f.scope), tree_id: f.treeId ?? null, limit: f.limit ?? 1000 });
    return rows.map((r) => ({ task_id: r.task_id, tree_id: r.tree_id, name: r.name, executor: r.executor, owner: r.owner, attempt: r.attempt, request: r.request, requested_at: r.requested_at }));
  }

  async attempts(taskId: string): Promise<Attempt[]> {
    const rows = await this.run(
      this.pool,
      q("attempts", "SELECT task_id, attempt, worker, started_at, finished_at, outcome, resolved_inputs, error FROM attempts WHERE task_id = :id::text ORDER BY attempt"),
      { id: taskId },
    );
    return rows.map((r) => ({ ...r, resolved_inputs: r.resolved_inputs ?? null, error: r.error ?? null }) as Attempt);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.waiters]) w();
    const listener = this.listener;
    this.listener = undefined;
    const client = listener ? await listener : undefined;
    await client?.end().catch(() => undefined);
    await this.pool.end();
  }
}
