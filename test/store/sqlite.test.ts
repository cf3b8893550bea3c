import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { makeTree, storeConformance } from "./conformance.js";

const dir = mkdtempSync(join(tmpdir(), "grove-sqlite-"));
let n = 0;
storeConformance("sqlite", async () => new SqliteStore({ path: join(dir, `conf-${n++}.db`) }));

describe("SqliteStore specifics", () => {
  it("is a real WAL-mode file that another connection reads", async () => {
    const path = join(dir, "wal.db");
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    expect(a.db.pragma("journal_mode", { simple: true })).toBe("wal");
    const t = makeTree([{ name: "x" }]);
    await a.createTree(t);
    expect((await b.getTree(t.id))?.name).toBe("t");
    await a.close();
    await b.close();
  });

  it("applies migrations once, also when reopened", async () => {
    const path = join(dir, "mig.db");
    await new SqliteStore({ path }).close();
    const s = new SqliteStore({ path });
    const versions = s.db.prepare("SELECT version FROM schema_migrations ORDER BY version").all();
    // One row per migration file, each applied once.
    const files = readdirSync(join(import.meta.dirname, "../../src/store/sqlite/migrations")).filter((f) => /^\d+_.*\.sql$/.test(f));
    expect(versions).toEqual(files.map((f) => ({ version: Number.parseInt(f, 10) })).sort((a, b) => a.version - b.version));
    expect(versions.length).toBeGreaterThanOrEqual(4);
    await s.close();
  });

  it("refuses to rewrite events", async () => {
    const s = new SqliteStore({ path: ":memory:" });
    const t = makeTree([{ name: "x" }]);
    await s.createTree(t);
    expect(() => s.db.prepare("UPDATE events SET type = 'x'").run()).toThrow(/append-only/);
    expect(() => s.db.prepare("DELETE FROM events").run()).toThrow(/append-only/);
    await s.close();
  });

  it("records a running attempt when it ends: cancelled by a user, with the worker that ran it", async () => {
    const s = new SqliteStore({ path: join(dir, `cancel-attempt.db`) });
    const t = makeTree([{ name: "x" }]);
    await s.createTree(t);
    const [x] = await s.claim({ workerId: "w1", limit: 1, leaseMs: 30_000 });
    // Running: no attempts row yet, the running attempt comes from the task row.
    expect(s.db.prepare("SELECT count(*) AS n FROM attempts").get()).toEqual({ n: 0 });
    expect((await s.attempts(x!.id)).map((a) => [a.attempt, a.worker, a.outcome, a.finished_at])).toEqual([[1, "w1", "running", null]]);
    await s.cancel(x!.id);
    const [cancelled] = await s.attempts(x!.id);
    expect([cancelled!.worker, cancelled!.outcome, cancelled!.error?.type]).toEqual(["w1", "cancelled", "cancelled"]);
    expect(cancelled!.finished_at).toBeGreaterThanOrEqual(cancelled!.started_at);
    // The worker's late outcome is a lost race, not an error, and changes nothing.
    expect(await s.finish([{ taskId: x!.id, workerId: "w1", kind: "completed", result: 1 }])).toEqual([false]);
    expect((await s.attempts(x!.id)).map((a) => a.outcome)).toEqual(["cancelled"]);
    await s.close();
  });

  it("checkpoints in a background thread while a runner drains work, and leaves no WAL behind on close", async () => {
    const path = join(dir, "checkpoint.db");
    const s = new SqliteStore({ path });
    const t = makeTree(Array.from({ length: 800 }, (_, i) => ({ name: `t${i}` })));
    await s.createTree(t);
    // The runner's path: finish and claim in batches (100 of them; the thread starts at the 64th).
    let claimed = await s.claim({ workerId: "w", limit: 8, leaseMs: 30_000 });
    while (claimed.length > 0) {
      ({ claimed } = await s.finishAndClaim(
        claimed.map((c) => ({ taskId: c.id, workerId: "w", kind: "completed" as const, result: { pad: "x".repeat(2000) } })),
        { claim: { workerId: "w", limit: 8, leaseMs: 30_000 } },
      ));
    }
    // The writer no longer checkpoints every 1,000 pages itself...
    expect(s.db.pragma("wal_autocheckpoint", { simple: true })).toBe(10_000);
    // ...the background connection does: the pages reach the main file while the writer's
    // connection stays open (800 results of 2 KB: well over 800 KB; without the thread they would
    // stay in the WAL, far below the writer's 10,000-page backstop, until close).
    const deadline = Date.now() + 5_000;
    while (statSync(path).size < 800_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(statSync(path).size).toBeGreaterThan(800_000);
    await s.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it("finishes a batch larger than one multi-row statement, and a task listed twice once", async () => {
    const s = new SqliteStore({ path: join(dir, "big-batch.db") });
    const t = makeTree(Array.from({ length: 70 }, (_, i) => ({ name: `t${i}` })));
    await s.createTree(t);
    const claimed = await s.claim({ workerId: "w", limit: 100, leaseMs: 30_000 });
    expect(claimed).toHaveLength(70);
    const outcomes = claimed.map((c) => ({ taskId: c.id, workerId: "w", kind: "completed" as const, result: { n: c.name } }));
    const accepted = await s.finish([...outcomes, outcomes[5]!]);
    expect(accepted.slice(0, 70).every(Boolean)).toBe(true);
    expect(accepted[70]).toBe(false);
    const tasks = await s.getTasks(claimed.map((c) => c.id));
    expect(tasks.every((x) => x.status === "completed" && (x.result as { n: string }).n === x.name)).toBe(true);
    const events = (await s.events({ treeId: t.id })).filter((e) => e.type === "task.completed");
    expect(events).toHaveLength(70);
    // seqs strictly increase, one per event, across the multi-row inserts
    const all = await s.events({ treeId: t.id });
    expect(all.every((e, i) => i === 0 || e.seq === all[i - 1]!.seq + 1)).toBe(true);
    for (const c of claimed) expect((await s.attempts(c.id)).map((a) => a.outcome)).toEqual(["completed"]);
    await s.close();
  });
});
