// The schedules of the SQLite store (DESIGN §7), on the SqliteStore's connection. Each state
// transition is one SQL file in ./schedules; each method is one immediate transaction, so two
// processes claiming at once are serialised by SQLite's write lock and a due slot is fired once.
import type Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../../core/errors.js";
import { uuidv7 } from "../../core/ids.js";
import { normalizeScope } from "../../core/scope.js";
import { canFire, firstDue, nextDue } from "../../schedules/due.js";
import { SqliteChangeWatch } from "./change-watch.js";
import { statementCache } from "./statement-cache.js";
import type { ClaimedRun, NewSchedule, RunError, Schedule, ScheduleRun, ScheduleSpec, ScheduleVersion, StoredItem } from "../../schedules/model.js";
import { ChangeSignal } from "../change-signal.js";
import { pickOne, type ClaimDueOptions, type FinishRunOptions, type RunFilter, type ScheduleStore } from "../schedule-store.js";

const here = dirname(fileURLToPath(import.meta.url));
const sql = (name: string) => readFileSync(join(here, "schedules", `${name}.sql`), "utf8");

type Row = Record<string, any>;

const SCOPE = (col: string) => `(:scope = '' OR ${col} = :scope OR substr(${col}, 1, length(:scope) + 1) = :scope || '/')`;

const FILES = [
  "insert_version", "upsert_schedule", "set_enabled", "delete", "claim_due", "fire", "expire", "insert_run",
  "append_item", "append_final_item", "set_run_tree", "finish_run", "record_outcome", "heartbeat_runs",
  "abandon_expired", "abandon_runs", "prune_items", "prune_runs",
] as const;

const json = (v: unknown): any => (v === null || v === undefined ? null : JSON.parse(v as string));

function toSpec(r: Row): ScheduleSpec {
  return {
    kind: r.kind,
    at: r.at,
    every_ms: r.every_ms,
    cron: r.cron,
    tz: r.tz,
    max_runs: r.max_runs,
    start_at: r.start_at,
    end_at: r.end_at,
  };
}

function toVersion(r: Row): ScheduleVersion {
  return { ...toSpec(r), version_id: r.version_id, owner: r.owner, name: r.name, version: r.version, target: JSON.parse(r.target), created_at: r.created_at };
}

function toSchedule(r: Row): Schedule {
  return {
    ...toVersion(r),
    enabled: r.enabled === 1,
    deleted_at: r.deleted_at,
    run_count: r.run_count,
    error_count: r.error_count,
    last_fired_at: r.last_fired_at,
    next_due_at: r.next_due_at,
    last_status: r.last_status,
    last_error: json(r.last_error),
    last_run_id: r.last_run_id,
    updated_at: r.updated_at,
  };
}

function toRun(r: Row): ScheduleRun {
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    version: r.version,
    version_id: r.version_id,
    due_at: r.due_at,
    status: r.status,
    runner: r.runner,
    lease_expires_at: r.lease_expires_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    error: json(r.error),
    tree_id: r.tree_id,
  };
}

const SCHEDULE_COLUMNS = `s.owner, s.name, s.version_id, s.version, s.enabled, s.deleted_at, s.run_count, s.error_count,
  s.last_fired_at, s.next_due_at, s.last_status, s.last_error, s.last_run_id, s.updated_at,
  v.kind, v.at, v.every_ms, v.cron, v.tz, v.max_runs, v.start_at, v.end_at, v.target, v.created_at`;

export class SqliteSchedules implements ScheduleStore {
  private readonly st: Record<(typeof FILES)[number], Database.Statement>;
  private readonly changes = new ChangeSignal();
  private readonly others: SqliteChangeWatch;
  private readonly prep: (text: string) => Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: () => number = Date.now,
  ) {
    this.st = Object.fromEntries(FILES.map((n) => [n, db.prepare(sql(n))])) as typeof this.st;
    this.others = new SqliteChangeWatch(db, () => this.changes.notify());
    this.prep = statementCache(db);
  }

  /** Stops watching the database file (the store is closing). */
  close(): void {
    this.others.close();
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private changed(): void {
    this.changes.notify();
  }

  async add(def: NewSchedule, opts: { overwrite: boolean; now?: number }): Promise<Schedule> {
    const now = opts.now ?? this.clock();
    const owner = normalizeScope(def.owner);
    this.tx(() => {
      const live = this.prep("SELECT version FROM schedules WHERE owner = ? AND name = ? AND deleted_at IS NULL").get(owner, def.name) as Row | undefined;
      if (live && !opts.overwrite) {
        throw new InputError(`schedule "${def.name}" already exists (version ${live.version}); use --overwrite to replace it with a new version`, "name");
      }
      const v = this.st.insert_version.get({
        owner,
        name: def.name,
        kind: def.kind,
        at: def.at,
        every_ms: def.every_ms,
        cron: def.cron,
        tz: def.tz,
        max_runs: def.max_runs,
        start_at: def.start_at,
        end_at: def.end_at,
        target: JSON.stringify(def.target),
        now,
      }) as Row;
      this.st.upsert_schedule.run({
        owner,
        name: def.name,
        version_id: v.id,
        version: v.version,
        enabled: def.enabled === false ? 0 : 1,
        next_due_at: firstDue(def, now),
        now,
      });
    });
    this.changed();
    return (await this.get(def.name, owner))!;
  }

  async get(name: string, scope: string, opts: { includeDeleted?: boolean } = {}): Promise<Schedule | undefined> {
    const s = normalizeScope(scope);
    const rows = this
      .prep(
        `SELECT ${SCHEDULE_COLUMNS} FROM schedules s JOIN schedule_versions v ON v.id = s.version_id
         WHERE s.name = :name AND ${SCOPE("s.owner")} AND (:deleted = 1 OR s.deleted_at IS NULL)
         ORDER BY s.owner`,
      )
      .all({ name, scope: s, deleted: opts.includeDeleted ? 1 : 0 }) as Row[];
    return pickOne(rows.map(toSchedule), name, s);
  }

  async list(opts: { scope: string; includeDeleted?: boolean }): Promise<Schedule[]> {
    const rows = this
      .prep(
        `SELECT ${SCHEDULE_COLUMNS} FROM schedules s JOIN schedule_versions v ON v.id = s.version_id
         WHERE ${SCOPE("s.owner")} AND (:deleted = 1 OR s.deleted_at IS NULL)
         ORDER BY s.owner, s.name`,
      )
      .all({ scope: normalizeScope(opts.scope), deleted: opts.includeDeleted ? 1 : 0 }) as Row[];
    return rows.map(toSchedule);
  }

  async versions(owner: string, name: string): Promise<ScheduleVersion[]> {
    const rows = this.prep("SELECT *, id AS version_id FROM schedule_versions WHERE owner = ? AND name = ? ORDER BY version").all(owner, name) as Row[];
    return rows.map(toVersion);
  }

  async setEnabled(owner: string, name: string, enabled: boolean, now = this.clock()): Promise<Schedule | undefined> {
    const n = this.tx(() => this.st.set_enabled.run({ owner, name, enabled: enabled ? 1 : 0, now }).changes);
    if (n === 0) return undefined;
    this.changed();
    return this.get(name, owner);
  }

  async remove(owner: string, name: string, now = this.clock()): Promise<boolean> {
    const n = this.tx(() => this.st.delete.run({ owner, name, now }).changes);
    if (n > 0) this.changed();
    return n > 0;
  }

  // ---- firing -------------------------------------------------------------------------------

  async claimDue(o: ClaimDueOptions): Promise<ClaimedRun[]> {
    const now = o.now ?? this.clock();
    const scope = normalizeScope(o.scope);
    // Cheap check first: a scheduler asks often and should not take the write lock for nothing.
    if (this.st.claim_due.all({ now, scope, limit: 1 }).length === 0) return [];
    return this.tx(() => {
      const due = this.st.claim_due.all({ now, scope, limit: o.limit }) as Row[];
      const claimed: ClaimedRun[] = [];
      for (const r of due) {
        const schedule = toVersion(r);
        const slot = { owner: r.owner, name: r.name, version_id: r.version_id, due_at: r.next_due_at, now };
        if (!canFire(schedule, r.next_due_at, now)) {
          this.st.expire.run(slot);
          continue;
        }
        const runId = uuidv7(now);
        const fired = this.st.fire.run({ ...slot, run_id: runId, next_due_at: nextDue(schedule, now, r.run_count + 1) }).changes;
        if (fired !== 1) continue;
        const run = this.st.insert_run.get({
          id: runId,
          owner: r.owner,
          name: r.name,
          version: r.version,
          version_id: r.version_id,
          due_at: r.next_due_at,
          runner: o.runner,
          lease_ms: o.leaseMs,
          now,
        }) as Row;
        claimed.push({ run: toRun(run), schedule });
      }
      return claimed;
    });
  }

  async appendItems(runId: string, items: readonly Omit<StoredItem, "run_id">[]): Promise<void> {
    if (items.length === 0) return;
    this.tx(() => {
      for (const i of items) this.st.append_item.run({ run_id: runId, seq: i.seq, at: i.at, item: JSON.stringify(i.item) });
    });
  }

  async setRunTree(runId: string, treeId: string): Promise<void> {
    this.tx(() => this.st.set_run_tree.run({ id: runId, tree_id: treeId }));
  }

  async finishRun(o: FinishRunOptions): Promise<boolean> {
    const now = o.now ?? this.clock();
    const error = o.error ? JSON.stringify(o.error) : null;
    const ok = this.tx(() => {
      const r = this.st.finish_run.get({ id: o.runId, runner: o.runner, status: o.status, error, now }) as Row | undefined;
      if (!r) return false;
      this.st.record_outcome.run({ owner: r.owner, name: r.name, version_id: r.version_id, status: o.status, failed: o.status === "failed" ? 1 : 0, error, now });
      return true;
    });
    this.changed();
    return ok;
  }

  async heartbeatRuns(runner: string, runIds: readonly string[], leaseMs: number, now = this.clock()): Promise<string[]> {
    if (runIds.length === 0) return [];
    const rows = this.tx(() => this.st.heartbeat_runs.all({ runner, ids: JSON.stringify(runIds), lease_ms: leaseMs, now }) as Row[]);
    return rows.map((r) => r.id);
  }

  async abandonExpired(o: { scope: string; now?: number }): Promise<ScheduleRun[]> {
    const now = o.now ?? this.clock();
    const scope = normalizeScope(o.scope);
    // Cheap check first: most calls find nothing and should not take the write lock.
    const any = this.prep(`SELECT 1 FROM schedule_runs WHERE status = 'running' AND lease_expires_at < :now AND ${SCOPE("owner")} LIMIT 1`).get({ now, scope });
    if (!any) return [];
    const runs = this.tx(() => this.abandoned(this.st.abandon_expired.all({ now, scope }) as Row[], now));
    if (runs.length) this.changed();
    return runs;
  }

  async abandonRuns(runner: string, runIds: readonly string[], error: RunError, now = this.clock()): Promise<ScheduleRun[]> {
    if (runIds.length === 0) return [];
    const runs = this.tx(() => this.abandoned(this.st.abandon_runs.all({ runner, ids: JSON.stringify(runIds), error: JSON.stringify(error), now }) as Row[], now));
    if (runs.length) this.changed();
    return runs;
  }

  /** The bookkeeping of runs just marked abandoned: a final error item, the schedule's error. */
  private abandoned(rows: Row[], now: number): ScheduleRun[] {
    for (const r of rows) {
      this.st.append_final_item.run({ run_id: r.id, at: now, item: JSON.stringify({ type: "error", error: JSON.parse(r.error) }) });
      this.st.record_outcome.run({ owner: r.owner, name: r.name, version_id: r.version_id, status: "abandoned", failed: 1, error: r.error, now });
    }
    return rows.map(toRun);
  }

  // ---- reads and retention ------------------------------------------------------------------

  async runs(f: RunFilter): Promise<ScheduleRun[]> {
    const rows = this
      .prep(
        `SELECT * FROM (
           SELECT * FROM schedule_runs
           WHERE ${SCOPE("owner")}
             AND (:owner IS NULL OR owner = :owner)
             AND (:name IS NULL OR name = :name)
             AND (:id IS NULL OR id = :id)
             AND (:status IS NULL OR status = :status)
           ORDER BY started_at DESC, id DESC LIMIT :limit)
         ORDER BY started_at, id`,
      )
      .all({ scope: normalizeScope(f.scope), owner: f.owner ?? null, name: f.name ?? null, id: f.runId ?? null, status: f.status ?? null, limit: f.limit ?? -1 }) as Row[];
    return rows.map(toRun);
  }

  async items(runIds: readonly string[]): Promise<StoredItem[]> {
    if (runIds.length === 0) return [];
    const rows = this
      .prep("SELECT i.* FROM schedule_run_items i WHERE i.run_id IN (SELECT value FROM json_each(?)) ORDER BY i.run_id, i.seq")
      .all(JSON.stringify(runIds)) as Row[];
    return rows.map((r) => ({ run_id: r.run_id, seq: r.seq, at: r.at, item: JSON.parse(r.item) }));
  }

  async nextDueAt(scope: string): Promise<number | null> {
    const r = this
      .prep(`SELECT min(next_due_at) AS t FROM schedules WHERE enabled = 1 AND deleted_at IS NULL AND next_due_at IS NOT NULL AND ${SCOPE("owner")}`)
      .get({ scope: normalizeScope(scope) }) as Row;
    return r.t ?? null;
  }

  async wakeTimes(scope: string): Promise<{ due: number | null; leaseExpiry: number | null }> {
    const r = this
      .prep(
        `SELECT (SELECT min(next_due_at) FROM schedules WHERE enabled = 1 AND deleted_at IS NULL AND next_due_at IS NOT NULL AND ${SCOPE("owner")}) AS due,
                (SELECT min(lease_expires_at) FROM schedule_runs WHERE status = 'running' AND ${SCOPE("owner")}) AS lease`,
      )
      .get({ scope: normalizeScope(scope) }) as Row;
    return { due: r.due ?? null, leaseExpiry: r.lease ?? null };
  }

  async prune(o: { scope: string; before: number }): Promise<{ runs: number; items: number }> {
    const params = { scope: normalizeScope(o.scope), before: o.before };
    return this.tx(() => {
      const items = this.st.prune_items.run(params).changes;
      const runs = this.st.prune_runs.run(params).changes;
      return { runs, items };
    });
  }

  async watchOthers(): Promise<boolean> {
    return this.others.start();
  }

  changeMark(): number {
    return this.changes.mark;
  }

  waitForChange(timeoutMs: number, signal?: AbortSignal, since?: number): Promise<void> {
    return this.changes.wait(timeoutMs, signal, since);
  }

}
