// Live streams and the remote SDK: an SSE client that drops its connection again and again and
// reconnects with Last-Event-ID gets every one of 1,000 events exactly once, in order; the stream
// ends once the tree is terminal; Grove.remote runs trees with typed results and typed errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Grove } from "../../src/client/local.js";
import { RemoteError } from "../../src/client/remote.js";
import { RPC } from "../../src/server/errors.js";
import { echoTree, ok, readSse, startServer, type TestServer } from "./helpers.js";

let s: TestServer;
let key: string;
beforeAll(async () => {
  s = await startServer({ workerConcurrency: 0 });
  key = await s.key("acme/live");
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe("SSE", () => {
  it("a client reconnecting with Last-Event-ID receives each of 1,000 events exactly once", async () => {
    const created = await ok(s.url, key, "tasks.create", { tree: echoTree("live") });
    const treeId: string = created.tree_id;
    const taskId: string = created.tasks[0].id;
    // 1,000 log events appended while the client reads, in batches of varying size.
    const writer = (async () => {
      for (let n = 0; n < 1000; ) {
        const batch = Math.min(1000 - n, 1 + (n % 37));
        await s.store.appendEvents(Array.from({ length: batch }, (_, i) => ({ tree_id: treeId, task_id: taskId, type: "task.log" as const, data: { message: `line ${n + i}` } })));
        n += batch;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const seen: number[] = [];
    const lines: string[] = [];
    let last = 0;
    let dropMs = 300;
    let connections = 0;
    let ended = false;
    while (!ended) {
      connections++;
      // Drop the connection after a few events each time (fewer once the writer is done).
      const r = await readSse(`${s.url}/trees/${treeId}/events`, { authorization: `Bearer ${key}`, "last-event-id": String(last) }, { stopAfter: 97, signal: AbortSignal.timeout(dropMs) });
      // A loaded machine may not answer within dropMs: wait longer after a connection that got nothing.
      dropMs = r.frames.length === 0 ? Math.min(dropMs * 2, 10_000) : 300;
      expect([0, 200]).toContain(r.status);
      for (const f of r.frames) {
        if (f.event === "end") {
          ended = true;
          continue;
        }
        const e = JSON.parse(f.data!);
        expect(Number(f.id)).toBe(e.seq);
        seen.push(e.seq);
        if (e.type === "task.log" && String(e.data.message).startsWith("line ")) lines.push(e.data.message);
        last = e.seq;
      }
      if (lines.length === 1000 && connections > 1 && !ended) {
        await writer;
        // Now finish the tree: the stream sends its last events, then `end`.
        await ok(s.url, key, "tasks.execute", { tree_id: treeId });
      }
    }
    await writer;
    expect(lines).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i}`));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(connections).toBeGreaterThan(10);
    const stored = await ok(s.url, key, "tasks.logs", { id: treeId, limit: 10_000 });
    expect(seen).toEqual(stored.map((e: { seq: number }) => e.seq));
  }, 120_000);

  it("a task stream ends when the task is terminal; a bad Last-Event-ID is 400", async () => {
    const done = await ok(s.url, key, "tasks.execute", { tree: echoTree("one") });
    const r = await readSse(`${s.url}/tasks/${done.tasks[0].id}/events`, { authorization: `Bearer ${key}` });
    expect(r.frames.map((f) => f.event)).toEqual(["task.created", "task.started", "task.log", "task.completed", "end"]);
    const bad = await readSse(`${s.url}/trees/${done.tree_id}/events`, { authorization: `Bearer ${key}`, "last-event-id": "abc" });
    expect(bad.status).toBe(400);
  });
});

describe("Grove.remote", () => {
  it("runs a tree with typed results, like Grove.local", async () => {
    const grove = Grove.remote({ url: s.url, apiKey: key });
    const result = await grove.run({ name: "remote", tasks: [{ name: "a", executor: "command", inputs: { command: "echo remote" } }, { name: "b", executor: "command", dependencies: ["a"], inputs: { command: "echo {{ tasks.a.result.stdout }}" } }] });
    expect(result.status).toBe("completed");
    const b = result.tasks.find((t) => t.name === "b")!;
    expect((b.result as { stdout: string }).stdout).toBe("remote\n");
    const task = await grove.getTask(b.id);
    expect(task.owner).toBe("acme/live");
    expect(typeof task.created_at).toBe("number");
    const listed = await grove.listTasks({ treeId: result.tree_id });
    expect(listed.map((t) => t.name)).toEqual(expect.arrayContaining(["a", "b"]));
    expect((await grove.treeResult(result.tree_id)).status).toBe("completed");
  });

  it("streams a started tree's events to the end", async () => {
    const grove = Grove.remote({ url: s.url, apiKey: key });
    const treeId = await grove.start(echoTree("streamed", "streamed"));
    const types: string[] = [];
    for await (const e of grove.events(treeId)) types.push(e.type);
    expect(types.at(-1)).toBe("tree.completed");
    expect(types).toContain("task.log");
  });

  it("errors are typed, with retryable; every call takes an AbortSignal", async () => {
    const grove = Grove.remote({ url: s.url, apiKey: key });
    const err = await grove.getTask("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code).toBe(RPC.NOT_FOUND);
    expect((err as RemoteError).retryable).toBe(false);
    const bad = Grove.remote({ url: s.url, apiKey: "grove_wrong" });
    const unauthorized = await bad.listTasks().catch((e: unknown) => e);
    expect((unauthorized as RemoteError).status).toBe(401);
    const ac = new AbortController();
    ac.abort();
    await expect(grove.listTasks({}, { signal: ac.signal })).rejects.toThrow();
    const down = Grove.remote({ url: "http://127.0.0.1:1", apiKey: key });
    const netErr = (await down.listTasks().catch((e: unknown) => e)) as RemoteError;
    expect(netErr.retryable).toBe(true);
    await grove.schedules.add({ name: "sdk", every: "1h", tree: echoTree() });
    expect((await grove.schedules.list()).map((x) => x.name)).toContain("sdk");
    const runs = await grove.schedules.run({ name: "sdk" });
    expect(runs[0]!.success).toBe(true);
  });
});
