// The SSE stream on PostgreSQL, where event seqs may commit out of order: four writers append
// 1,000 events concurrently (their transactions interleave) while a client reads, drops the
// connection and resumes with Last-Event-ID. It must receive every stored event exactly once.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { echoTree, ok, readSse, startServer, type TestServer } from "./helpers.js";

let pg: TestPostgres;
let s: TestServer;
let key: string;
beforeAll(async () => {
  pg = await startTestPostgres();
  s = await startServer({ db: await pg.createDatabase(), workerConcurrency: 0 });
  key = await s.key("acme/pg");
}, 120_000);
afterAll(async () => {
  await s?.close();
  await pg?.stop();
}, 60_000);

it("concurrent writers, a reconnecting reader: every event exactly once", async () => {
  const created = await ok(s.url, key, "tasks.create", { tree: echoTree("pg-live") });
  const treeId: string = created.tree_id;
  const taskId: string = created.tasks[0].id;
  const writers = Promise.all(
    [0, 1, 2, 3].map(async (w) => {
      for (let n = 0; n < 250; n += 5) {
        await s.store.appendEvents(Array.from({ length: 5 }, (_, i) => ({ tree_id: treeId, task_id: taskId, type: "task.log" as const, data: { message: `w${w} ${n + i}` } })));
      }
    }),
  );
  const seen: number[] = [];
  let last = 0;
  let dropMs = 400;
  let ended = false;
  let finished = false;
  while (!ended) {
    const r = await readSse(`${s.url}/trees/${treeId}/events`, { authorization: `Bearer ${key}`, "last-event-id": String(last) }, { stopAfter: 113, signal: AbortSignal.timeout(dropMs) });
    // A loaded machine may not answer within dropMs: wait longer after a connection that got nothing.
    dropMs = r.frames.length === 0 ? Math.min(dropMs * 2, 10_000) : 400;
    expect([0, 200]).toContain(r.status);
    for (const f of r.frames) {
      if (f.event === "end") {
        ended = true;
        continue;
      }
      last = Number(f.id);
      seen.push(last);
    }
    if (!finished && seen.length >= 1001) {
      await writers;
      await ok(s.url, key, "tasks.execute", { tree_id: treeId });
      finished = true;
    }
  }
  await writers;
  const stored = (await ok(s.url, key, "tasks.logs", { id: treeId, limit: 10_000 })).map((e: { seq: number }) => e.seq);
  expect(stored.length).toBeGreaterThan(1000);
  expect(seen).toEqual(stored);
}, 120_000);
