// Must-show 1 and the daemon: concurrent `grove schedules run` processes and schedulers on one
// SQLite store never fire a due slot twice; a dead scheduler's runs end up abandoned, not lost.
// Real processes of the built CLI (npm run build first).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { grove, groveBackground, tempDir } from "../helpers/cli.js";
import { def } from "./conformance.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jsonLines = (s: string) => s.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));

/** Runs `grove schedules run` as `n` processes started together; resolves with each one's result. */
function concurrentRuns(db: string, n: number, extra: string[] = []) {
  return Promise.all(
    Array.from({ length: n }, () => grove(["schedules", "run", "--json", "--db", db, ...extra])),
  );
}

describe("must-show 1: concurrent runners on SQLite", () => {
  it("8 concurrent `grove schedules run` processes over 500 due oneshots: exactly 500 runs, each schedule once; a second round fires none", async () => {
    const db = join(tempDir("grove-conc-"), "g.db");
    const store = new SqliteStore({ path: db });
    const s = store.schedules();
    const now = Date.now();
    for (let i = 0; i < 500; i++) await s.add(def(`once-${i}`, { owner: `tenant/${i % 7}`, at: now - 1000, target: { type: "argv", argv: ["executors", "list", "--json"] } }), { overwrite: false });
    await store.close();

    // --limit 100 spreads the claims over the processes (8 × 100 ≥ 500)
    const round1 = await concurrentRuns(db, 8, ["--limit", "100"]);
    for (const r of round1) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    const lines = round1.flatMap((r) => jsonLines(r.stdout));
    expect(lines).toHaveLength(500);
    expect(new Set(lines.map((l) => l.schedule)).size).toBe(500);
    expect(new Set(lines.map((l) => l.run_id)).size).toBe(500);
    expect(lines.every((l) => l.success === true)).toBe(true);
    // the claims really were shared between processes
    expect(round1.filter((r) => r.stdout.length > 0).length).toBeGreaterThan(1);

    const round2 = await concurrentRuns(db, 8);
    for (const r of round2) {
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
    }

    const check = new SqliteStore({ path: db });
    const runs = check.db.prepare("SELECT name, status, count(*) OVER (PARTITION BY owner, name) AS n FROM schedule_runs").all() as { name: string; status: string; n: number }[];
    expect(runs).toHaveLength(500);
    expect(runs.every((r) => r.n === 1 && r.status === "succeeded")).toBe(true);
    const counts = check.db.prepare("SELECT run_count, count(*) AS n FROM schedules GROUP BY run_count").all();
    expect(counts).toEqual([{ run_count: 1, n: 500 }]);
    await check.close();
  }, 120_000);

  it("without --limit, concurrent runners also fire each due schedule exactly once", async () => {
    const db = join(tempDir("grove-conc-"), "g.db");
    const store = new SqliteStore({ path: db });
    for (let i = 0; i < 60; i++) await store.schedules().add(def(`o${i}`, { at: Date.now() - 1000 }), { overwrite: false });
    await store.close();
    const results = await concurrentRuns(db, 8);
    const names = results.flatMap((r) => jsonLines(r.stdout)).map((l) => l.schedule);
    expect(names.sort()).toEqual(Array.from({ length: 60 }, (_, i) => `o${i}`).sort());
  }, 60_000);

  it("an interval schedule fires once per due slot across concurrent runners and schedulers", async () => {
    const dir = tempDir("grove-conc-");
    const db = join(dir, "g.db");
    const every = 1000;
    const add = await grove(["schedules", "add", "--name", "tick", "--every", "1s", "--db", db, "--", "executors", "list"]);
    expect(add.code).toBe(0);
    const schedulers = [0, 1, 2].map(() => groveBackground(["scheduler", "--json", "--db", db]));
    await Promise.all(schedulers.map((s) => s.waitFor(/"event":"ready"/)));
    // and 4 loops of `schedules run` hammering the same store meanwhile
    const until = Date.now() + 5500;
    const loops = [0, 1, 2, 3].map(async () => {
      while (Date.now() < until) {
        const r = await grove(["schedules", "run", "--json", "--db", db]);
        expect(r.stderr).toBe("");
      }
    });
    await Promise.all(loops);
    for (const s of schedulers) s.child.kill("SIGTERM");
    const codes = await Promise.all(schedulers.map((s) => s.exited));
    expect(codes).toEqual([0, 0, 0]);

    const store = new SqliteStore({ path: db });
    const runs = store.db.prepare("SELECT due_at, started_at, status, runner FROM schedule_runs ORDER BY started_at").all() as { due_at: number; started_at: number; status: string; runner: string }[];
    const head = store.db.prepare("SELECT run_count FROM schedules WHERE name = 'tick'").get() as { run_count: number };
    await store.close();
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(head.run_count).toBe(runs.length);
    expect(new Set(runs.map((r) => r.due_at)).size).toBe(runs.length);
    for (let i = 1; i < runs.length; i++) {
      // each slot is the previous firing + every: none fired twice, none fired early
      expect(runs[i]!.due_at).toBe(runs[i - 1]!.started_at + every);
      expect(runs[i]!.started_at).toBeGreaterThanOrEqual(runs[i]!.due_at);
    }
    expect(runs.every((r) => r.status === "succeeded")).toBe(true);
  }, 60_000);
});

describe("grove scheduler", () => {
  it("sees a schedule added by another process and fires it within 1 s of its due time", async () => {
    const db = join(tempDir("grove-sched-"), "g.db");
    const scheduler = groveBackground(["scheduler", "--json", "--db", db]);
    await scheduler.waitFor(/"event":"ready"/);
    const at = new Date(Date.now() + 2500).toISOString();
    expect((await grove(["schedules", "add", "--name", "soon", "--at", at, "--db", db, "--", "executors", "list"])).code).toBe(0);
    await scheduler.waitFor(/"event":"finished"/, 15_000);
    scheduler.child.kill("SIGTERM");
    expect(await scheduler.exited).toBe(0);
    const events = jsonLines(scheduler.output().stdout);
    const fired = events.find((e) => e.event === "fired")!;
    expect(fired).toMatchObject({ schedule: "soon", version: 1, owner: "", due_at: at });
    const lag = Date.parse(fired.at) - Date.parse(at);
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(1000);
    expect(events.find((e) => e.event === "finished")).toMatchObject({ schedule: "soon", success: true, status: "succeeded" });
    expect(events.at(-1)).toMatchObject({ event: "stopped" });
  }, 30_000);

  it("a scheduler killed mid-run leaves its run running until the lease expires; the next runner marks it abandoned", async () => {
    const dir = tempDir("grove-sched-");
    const db = join(dir, "g.db");
    const file = join(dir, "slow.json");
    writeFileSync(file, JSON.stringify({ name: "slow", tasks: [{ name: "wait", executor: "command", inputs: { command: "echo started; sleep 6" } }] }));
    expect((await grove(["schedules", "add", "--name", "slow", "--oneshot", "--tree", file, "--db", db])).code).toBe(0);
    const scheduler = groveBackground(["scheduler", "--json", "--lease-ms", "600", "--db", db]);
    await scheduler.waitFor(/"event":"fired"/);
    // wait for its output to be stored, then kill it without a chance to clean up
    const peek = new SqliteStore({ path: db });
    for (let i = 0; i < 200; i++) {
      const n = peek.db.prepare("SELECT count(*) AS n FROM schedule_run_items WHERE json_extract(item, '$.event.type') = 'task.started'").get() as { n: number };
      if (n.n > 0) break;
      await sleep(25);
    }
    const before = peek.db.prepare("SELECT status FROM schedule_runs").all();
    await peek.close();
    expect(before).toEqual([{ status: "running" }]);
    scheduler.child.kill("SIGKILL");
    await scheduler.exited;
    let run: any;
    for (let i = 0; i < 100; i++) {
      [run] = JSON.parse((await grove(["schedules", "logs", "slow", "--json", "--db", db])).stdout);
      if (run.status !== "running") break;
      const r = await grove(["schedules", "run", "--json", "--db", db]);
      expect(r.code).toBe(0);
      await sleep(100);
    }
    expect(run).toMatchObject({ status: "abandoned", error: { type: "abandoned", message: expect.stringMatching(/stopped heartbeating; the lease expired at .* before the run finished/) } });
    expect(run.finished_at).not.toBeNull();
    // what it produced before dying is kept, and the error is the last item
    expect(run.items.map((x: any) => x.item.type)).toEqual(["tree", "event", "error"]);
    expect(run.items[1].item.event).toMatchObject({ type: "task.started", data: { name: "wait" } });
    expect(run.items.at(-1).item).toEqual({ type: "error", error: run.error });
    const [listed] = JSON.parse((await grove(["schedules", "list", "--json", "--db", db])).stdout);
    expect(listed).toMatchObject({ error_count: 1, last_status: "abandoned", last_error: run.error });
  }, 60_000);

  it("SIGTERM: stops claiming, lets runs finish for --grace-ms, then records the rest as abandoned", async () => {
    const dir = tempDir("grove-sched-");
    const db = join(dir, "g.db");
    const file = join(dir, "slow.json");
    writeFileSync(file, JSON.stringify({ name: "slow", tasks: [{ name: "wait", executor: "command", inputs: { command: "sleep 20" } }] }));
    await grove(["schedules", "add", "--name", "slow", "--oneshot", "--tree", file, "--db", db]);
    await grove(["schedules", "add", "--name", "later", "--every", "1h", "--start-at", new Date(Date.now() + 3_600_000).toISOString(), "--db", db, "--", "executors", "list"]);
    const scheduler = groveBackground(["scheduler", "--json", "--grace-ms", "300", "--db", db]);
    await scheduler.waitFor(/"event":"fired"/);
    scheduler.child.kill("SIGTERM");
    expect(await scheduler.exited).toBe(0);
    const events = jsonLines(scheduler.output().stdout).map((e) => e.event);
    expect(events).toEqual(["ready", "fired", "stopping", "abandoned", "stopped"]);
    const [run] = JSON.parse((await grove(["schedules", "logs", "slow", "--json", "--db", db])).stdout);
    expect(run).toMatchObject({ status: "abandoned", error: { type: "abandoned", message: expect.stringMatching(/stopped before the run finished/) } });
  }, 30_000);

  it("a scheduler with --as fires only its scope", async () => {
    const db = join(tempDir("grove-sched-"), "g.db");
    for (const owner of ["acme/team_1", "acme/team_10"]) {
      await grove(["schedules", "add", "--name", "job", "--oneshot", "--as", owner, "--db", db, "--", "executors", "list"]);
    }
    const scheduler = groveBackground(["scheduler", "--json", "--as", "acme/team_1", "--db", db]);
    await scheduler.waitFor(/"event":"finished"/);
    await sleep(300);
    scheduler.child.kill("SIGTERM");
    await scheduler.exited;
    const fired = jsonLines(scheduler.output().stdout).filter((e) => e.event === "fired");
    expect(fired.map((e) => e.owner)).toEqual(["acme/team_1"]);
    const list = JSON.parse((await grove(["schedules", "list", "--json", "--db", db])).stdout);
    expect(Object.fromEntries(list.map((s: any) => [s.owner, s.run_count]))).toEqual({ "acme/team_1": 1, "acme/team_10": 0 });
  }, 30_000);
});
