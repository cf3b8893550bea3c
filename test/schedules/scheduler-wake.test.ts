// `grove scheduler` sleeps until it has something to do (issue 4: "sleeps until the next due time,
// no busy polling; fires within 1 s of it"), on both stores: while idle it looks at the store once
// per backstop period (60 s), yet a schedule added by another process wakes it and fires on time,
// and a run left by a dead runner is marked abandoned when its lease expires.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimedRun, ScheduleRun } from "../../src/schedules/model.js";
import { Scheduler } from "../../src/schedules/scheduler.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { schedulesOf } from "../../src/store/schedule-store.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { grove, tempDir } from "../helpers/cli.js";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { def } from "./conformance.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startScheduler(store: Store, db: string) {
  const looks: { at: number; sleepMs: number; watching: boolean }[] = [];
  const fired: { at: number; run: ScheduleRun }[] = [];
  const abandoned: { at: number; run: ScheduleRun }[] = [];
  const scheduler = new Scheduler({
    store,
    schedules: schedulesOf(store),
    scope: "",
    db,
    graceMs: 5000,
    onLook: (l) => looks.push({ at: Date.now(), ...l }),
    onStart: (c: ClaimedRun) => fired.push({ at: Date.now(), run: c.run }),
    onAbandoned: (runs) => abandoned.push(...runs.map((run) => ({ at: Date.now(), run }))),
  });
  const done = scheduler.run();
  return { scheduler, looks, fired, abandoned, stop: async () => (scheduler.stop(), await done) };
}

async function waitUntil(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await sleep(20);
  }
}

function wakeSuite(label: string, fresh: () => Promise<{ db: string; open: () => Promise<Store> }>) {
  describe(`grove scheduler wake-ups: ${label}`, () => {
    it("idle, it looks once and sleeps; a schedule added by another process wakes it and fires within 1 s of its due time", async () => {
      const { db, open } = await fresh();
      const store = await open();
      const s = startScheduler(store, db);
      try {
        await waitUntil(() => s.looks.length > 0, 10_000);
        await sleep(1500);
        // No polling: nothing is due, so one look (PostgreSQL: plus the one its LISTEN asks for).
        expect(s.looks.length).toBeLessThanOrEqual(2);
        expect(s.looks.at(-1)).toMatchObject({ watching: true, sleepMs: 60_000 });

        const due = Date.now() + 3000;
        const added = await grove(["schedules", "add", "--name", "woken", "--at", new Date(due).toISOString(), "--db", db, "--", "executors", "list"]);
        expect(added.code).toBe(0);
        const addedAt = Date.now();
        await waitUntil(() => s.fired.length > 0, 10_000);
        // Late only if the add itself (a process start, on a loaded machine) ended after the due time.
        const lag = s.fired[0]!.at - Math.max(due, addedAt);
        expect(s.fired[0]!.run).toMatchObject({ name: "woken", due_at: due });
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThan(1000);
        // A handful of looks for the add, the firing and the run's end: not one per poll period.
        expect(s.looks.length).toBeLessThan(15);
      } finally {
        await s.stop();
        await store.close();
      }
    }, 30_000);

    it("a run left by a runner that died is marked abandoned when its lease expires, without polling", async () => {
      const { db, open } = await fresh();
      const store = await open();
      const other = await open();
      const s = startScheduler(store, db);
      try {
        await waitUntil(() => s.looks.length > 0, 10_000);
        // Another runner (on another connection) claims a schedule, then dies: no heartbeat, no end.
        await schedulesOf(other).add(def("orphan"), { overwrite: false });
        const [claimed] = await schedulesOf(other).claimDue({ scope: "", runner: "dead-runner", leaseMs: 800, limit: 1 });
        expect(claimed).toBeDefined();
        const expires = claimed!.run.lease_expires_at!;
        await waitUntil(() => s.abandoned.length > 0, 10_000);
        expect(s.abandoned[0]!.run).toMatchObject({ id: claimed!.run.id, status: "abandoned" });
        expect(s.abandoned[0]!.at).toBeGreaterThan(expires);
        expect(s.abandoned[0]!.at - expires).toBeLessThan(1000);
        expect(s.fired).toHaveLength(0); // the scheduler did not fire it again
      } finally {
        await s.stop();
        await other.close();
        await store.close();
      }
    }, 30_000);
  });
}

wakeSuite("sqlite", async () => {
  const db = join(tempDir("grove-wake-"), "g.db");
  return { db, open: async () => new SqliteStore({ path: db }) };
});

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);

wakeSuite("postgres", async () => {
  const db = await server.createDatabase();
  return { db, open: () => PostgresStore.open(db, { poolSize: 3 }) };
});
