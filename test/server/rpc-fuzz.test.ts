// /rpc under hostile input: malformed JSON, wrong types, huge bodies, unknown methods and 1,000
// random requests. Never a 500, never a crash, and the JSON-RPC code each case calls for.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RPC } from "../../src/server/errors.js";
import { echoTree, ok, post, rpc, startServer, type TestServer } from "./helpers.js";

let s: TestServer;
let key: string;
let auth: Record<string, string>;
beforeAll(async () => {
  s = await startServer({ bodyLimit: 64 * 1024 });
  key = await s.key("fuzz");
  auth = { authorization: `Bearer ${key}` };
}, 60_000);
afterAll(async () => {
  await s?.close();
});

/** A deterministic PRNG, so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe("JSON-RPC errors", () => {
  it("malformed JSON is -32700 with HTTP 400", async () => {
    for (const body of ["{", "nul", '{"jsonrpc": "2.0",}', "\u0000\u0001", "[1,2", ""]) {
      const r = await post(`${s.url}/rpc`, body, auth);
      expect(r.status, body).toBe(400);
      expect(r.body.error.code).toBe(RPC.PARSE_ERROR);
      expect(r.body.id).toBeNull();
    }
  });

  it("requests that are not JSON-RPC are -32600", async () => {
    for (const body of [1, "x", null, true, [], { jsonrpc: "1.0", id: 1, method: "tasks.list" }, { jsonrpc: "2.0", id: 1 }, { jsonrpc: "2.0", id: {}, method: "tasks.list" }, { jsonrpc: "2.0", id: 1, method: 7 }]) {
      const r = await post(`${s.url}/rpc`, JSON.stringify(body), auth);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe(RPC.INVALID_REQUEST);
    }
  });

  it("an unknown method is -32601", async () => {
    const r = await rpc(s.url, key, "tasks.nope", {});
    expect(r.body.error.code).toBe(RPC.METHOD_NOT_FOUND);
    expect((await rpc(s.url, key, "__proto__", {})).body.error.code).toBe(RPC.METHOD_NOT_FOUND);
    expect((await rpc(s.url, key, "constructor", {})).body.error.code).toBe(RPC.METHOD_NOT_FOUND);
  });

  it("wrong param types are -32602 naming the field", async () => {
    let r = await rpc(s.url, key, "tasks.list", { limit: "ten" });
    expect(r.body.error.code).toBe(RPC.INVALID_PARAMS);
    expect(r.body.error.data.field).toBe("limit");
    r = await rpc(s.url, key, "tasks.execute", { tree: echoTree(), concurrency: -1 });
    expect(r.body.error.data.field).toBe("concurrency");
    r = await rpc(s.url, key, "tasks.get", []);
    expect(r.body.error.code).toBe(RPC.INVALID_PARAMS);
    r = await rpc(s.url, key, "tasks.get", { id: "x", extra: 1 });
    expect(r.body.error.code).toBe(RPC.INVALID_PARAMS);
  });

  it("application errors: not found, conflict, validation", async () => {
    expect((await rpc(s.url, key, "tasks.get", { id: "nope" })).body.error.code).toBe(RPC.NOT_FOUND);
    const done = await ok(s.url, key, "tasks.execute", { tree: echoTree() });
    const cancel = await rpc(s.url, key, "tasks.cancel", { id: done.tasks[0].id });
    expect(cancel.body.error.code).toBe(RPC.CONFLICT);
    const bad = await rpc(s.url, key, "tasks.create", { tree: { name: "x", tasks: [{ name: "a", executor: "no-such-executor" }] } });
    expect(bad.body.error.code).toBe(RPC.VALIDATION);
    expect(bad.body.error.message).toMatch(/no-such-executor/);
    await ok(s.url, key, "schedules.add", { name: "dup", every: "1h", tree: echoTree() });
    expect((await rpc(s.url, key, "schedules.add", { name: "dup", every: "1h", tree: echoTree() })).body.error.code).toBe(RPC.CONFLICT);
    expect((await rpc(s.url, key, "schedules.add", { name: "c", cron: "not a cron", tree: echoTree() })).body.error.code).toBe(RPC.VALIDATION);
  });

  it("batches answer each call; notifications get no answer", async () => {
    const r = await post(
      `${s.url}/rpc`,
      JSON.stringify([
        { jsonrpc: "2.0", id: "a", method: "executors.list" },
        { jsonrpc: "2.0", method: "tasks.list" },
        { jsonrpc: "2.0", id: 3, method: "nope" },
        1,
      ]),
      auth,
    );
    expect(r.status).toBe(200);
    expect(r.body.map((x: { id: unknown }) => x.id)).toEqual(["a", 3, null]);
    expect(r.body[0].result.length).toBeGreaterThan(0);
    expect(r.body[1].error.code).toBe(RPC.METHOD_NOT_FOUND);
    expect(r.body[2].error.code).toBe(RPC.INVALID_REQUEST);
    const onlyNotes = await post(`${s.url}/rpc`, JSON.stringify([{ jsonrpc: "2.0", method: "tasks.list" }]), auth);
    expect(onlyNotes.status).toBe(204);
    const tooMany = await post(`${s.url}/rpc`, JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "tasks.list" }))), auth);
    expect(tooMany.body.error.code).toBe(RPC.INVALID_REQUEST);
  });

  it("a body over the limit is 413, and the server goes on", async () => {
    const huge = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks.create", params: { tree: { name: "x".repeat(200_000) } } });
    const r = await post(`${s.url}/rpc`, huge, auth);
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe(RPC.INVALID_REQUEST);
    expect((await rpc(s.url, key, "executors.list", {})).status).toBe(200);
  });

  it("1,000 random requests: no 500, each answer well-formed", async () => {
    const rand = rng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const methods = [...s.server.methods.list().map((m) => m.name), "tasks.nope", "", "x".repeat(300)];
    const values = [null, 0, -1, 1.5, 1e308, "", "x", "../../etc/passwd", "'; DROP TABLE tasks; --", "%", "acme/%", [], {}, [1, "a"], { a: { b: [] } }, true, "\u0000", "é".repeat(50)];
    const keys = ["id", "tree", "tree_id", "name", "limit", "offset", "status", "after", "every", "cron", "stream", "inputs", "run", "wait", "all", "reason", "__proto__"];
    const codes = new Map<number, number>();
    const batch = async (i: number) => {
      let body: string;
      const shape = rand();
      if (shape < 0.1) body = JSON.stringify(pick(values));
      else if (shape < 0.15) body = JSON.stringify({ jsonrpc: "2.0", id: i, method: "tasks.list" }).slice(0, Math.floor(rand() * 40));
      else {
        const params: Record<string, unknown> = {};
        for (let k = Math.floor(rand() * 4); k > 0; k--) params[pick(keys)] = pick(values);
        body = JSON.stringify({ jsonrpc: pick(["2.0", "2.0", "2.0", "1.0"]), id: pick([i, `r${i}`, null]), method: pick(methods), params: rand() < 0.9 ? params : pick(values) });
      }
      const r = await post(`${s.url}/rpc`, body, auth);
      expect(r.status, body).not.toBe(500);
      expect([200, 204, 400]).toContain(r.status);
      if (r.status === 204) return;
      const answers = Array.isArray(r.body) ? r.body : [r.body];
      for (const a of answers) {
        expect(a.jsonrpc, body).toBe("2.0");
        if (a.error) {
          expect(a.error.code, `${body} → ${JSON.stringify(a)}`).not.toBe(RPC.INTERNAL);
          codes.set(a.error.code, (codes.get(a.error.code) ?? 0) + 1);
        }
      }
    };
    for (let i = 0; i < 1000; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => batch(i + j)));
    expect(codes.get(RPC.INVALID_PARAMS) ?? 0).toBeGreaterThan(0);
    expect(codes.get(RPC.METHOD_NOT_FOUND) ?? 0).toBeGreaterThan(0);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  }, 120_000);
});

describe("rate limit", () => {
  it("over its budget a key gets 429 with Retry-After; other keys are not affected", async () => {
    const limited = await startServer({ rateLimit: { perSecond: 1, burst: 5 } });
    try {
      const k1 = await limited.key("r/1");
      const k2 = await limited.key("r/2");
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 8; i++) {
        const r = await rpc(limited.url, k1, "executors.list", {});
        statuses.push(r.status);
        if (r.status === 429) {
          retryAfter = r.headers.get("retry-after");
          expect(r.body.error.code).toBe(RPC.RATE_LIMITED);
        }
      }
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await rpc(limited.url, k2, "executors.list", {})).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
