// ScheduleStore on SQLite: the conformance suite, plus what is specific to the SQLite schema.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { def, scheduleConformance, T0 } from "./conformance.js";

const dir = mkdtempSync(join(tmpdir(), "grove-sched-"));
let n = 0;
scheduleConformance("sqlite", async () => {
  const path = join(dir, `conf-${n++}.db`);
  return async () => new SqliteStore({ path });
});

describe("SQLite schedules schema", () => {
  it("keeps versions immutable and a due slot unique per version", async () => {
    const store = new SqliteStore({ path: join(dir, "schema.db") });
    const s = store.schedules();
    await s.add(def("x", { kind: "interval", every_ms: 1000 }), { overwrite: false, now: T0 });
    expect(() => store.db.prepare("UPDATE schedule_versions SET kind = 'cron'").run()).toThrow(/immutable/);
    const [c] = await s.claimDue({ scope: "", runner: "r", leaseMs: 1000, limit: 10, now: T0 });
    expect(() =>
      store.db
        .prepare("INSERT INTO schedule_runs (id, owner, name, version, version_id, due_at, status, runner, started_at) VALUES ('dup', '', 'x', 1, ?, ?, 'running', 'r', 0)")
        .run(c!.run.version_id, c!.run.due_at),
    ).toThrow(/UNIQUE/);
    await store.close();
  });

  it("the same SqliteStore hands out one ScheduleStore", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    expect(store.schedules()).toBe(store.schedules());
    await store.close();
  });
});
