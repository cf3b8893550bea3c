// Firing schedules from the server: every due one in the caller's scope (like `grove schedules
// run`), or one named schedule now, on demand (`schedules.run` with a name, inbound webhooks).
// An on-demand firing is recorded like any other: a schedule_runs row, its items, its outcome;
// it counts in run_count but leaves the schedule's next due time alone.
import { uuidv7 } from "../core/ids.js";
import { NotFoundError } from "../core/errors.js";
import { ScheduleFirer, type RunOutcome } from "../schedules/fire.js";
import type { ClaimedRun } from "../schedules/model.js";
import { schedulesOf } from "../store/schedule-store.js";
import { RPC, RpcError } from "./errors.js";
import type { ServerServices } from "./services.js";

export interface FiredRun {
  schedule: string;
  version: number;
  owner: string;
  run_id: string;
  status: string;
  success: boolean | null;
}

function firer(services: ServerServices, scope: string): ScheduleFirer {
  return new ScheduleFirer({
    store: services.store,
    schedules: schedulesOf(services.store),
    scope,
    db: services.dbSpec,
    executorModules: services.executorModules,
    executors: services.registry.list(),
    settings: services.settings,
  });
}

/** Inserts a running run of the live schedule `owner/name`, due now, held by `runner`. */
async function claimNow(services: ServerServices, owner: string, name: string, runner: string, leaseMs: number): Promise<ClaimedRun> {
  const schedules = schedulesOf(services.store);
  const runId = await services.db.tx(async (db) => {
    const rows = await db.all("SELECT version_id, version, enabled, deleted_at FROM schedules WHERE owner = $1 AND name = $2", [owner, name]);
    const s = rows[0];
    if (!s || (s.deleted_at !== null && s.deleted_at !== undefined)) throw new NotFoundError(`no schedule "${name}"`);
    if (!s.enabled || s.enabled === 0) throw new RpcError(RPC.CONFLICT, `schedule "${name}" is disabled`);
    const now = Date.now();
    const id = uuidv7(now);
    // (version_id, due_at) is unique: two on-demand firings in the same millisecond take the next one.
    let inserted = false;
    for (let dueAt = now; !inserted && dueAt < now + 50; dueAt++) {
      const exists = await db.all("SELECT 1 AS x FROM schedule_runs WHERE version_id = $1 AND due_at = $2", [s.version_id, dueAt]);
      if (exists.length > 0) continue;
      await db.all(
        "INSERT INTO schedule_runs (id, owner, name, version, version_id, due_at, status, runner, lease_expires_at, started_at) VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9)",
        [id, owner, name, s.version, s.version_id, dueAt, runner, now + leaseMs, now],
      );
      inserted = true;
    }
    if (!inserted) throw new RpcError(RPC.CONFLICT, `schedule "${name}" is being fired too often`);
    await db.all(
      "UPDATE schedules SET run_count = run_count + 1, last_fired_at = $3, last_status = 'running', last_run_id = $4, updated_at = $3 WHERE owner = $1 AND name = $2",
      [owner, name, now, id],
    );
    return id;
  });
  const schedule = await schedules.get(name, owner);
  const run = (await schedules.runs({ scope: owner, owner, name, runId }))[0];
  if (!schedule || !run) throw new Error(`run ${runId} vanished`);
  return { run, schedule };
}

const fired = (c: ClaimedRun, o: RunOutcome | undefined): FiredRun => ({
  schedule: c.run.name,
  version: c.run.version,
  owner: c.run.owner,
  run_id: c.run.id,
  status: o?.status ?? "running",
  success: o ? o.success : null,
});

/**
 * Fires `name` (resolved within `scope`) now, or every due schedule in `scope` when no name is
 * given. With `wait`, resolves once the runs end; otherwise at once, with them running.
 */
export async function fireSchedules(services: ServerServices, scope: string, opts: { name?: string; owner?: string; wait: boolean }): Promise<FiredRun[]> {
  const f = firer(services, scope);
  let claimed: ClaimedRun[];
  try {
    if (opts.name !== undefined) {
      let owner = opts.owner;
      if (owner === undefined) {
        const s = await schedulesOf(services.store).get(opts.name, scope);
        if (!s) throw new NotFoundError(`no schedule "${opts.name}"${scope ? ` in scope "${scope}"` : ""}`);
        owner = s.owner;
      }
      claimed = f.adopt([await claimNow(services, owner, opts.name, f.runner, f.leaseMs)]);
    } else {
      await f.abandonExpired();
      claimed = await f.claim(1000);
    }
  } catch (err) {
    f.close();
    throw err;
  }
  const ids = claimed.map((c) => c.run.id);
  if (!opts.wait) {
    void f.wait(ids).finally(() => f.close());
    return claimed.map((c) => fired(c, undefined));
  }
  try {
    const outcomes = new Map((await f.wait(ids)).map((o) => [o.run.id, o]));
    return claimed.map((c) => fired(c, outcomes.get(c.run.id)));
  } finally {
    f.close();
  }
}
