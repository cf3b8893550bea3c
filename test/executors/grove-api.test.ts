// The grove_api executor against a second, real `grove serve` (fastify on 127.0.0.1 over its own
// SQLite file, real API keys): inline trees, stored trees and tasks, waiting by SSE and by
// polling, remote failures, timeouts that cancel the remote tree, the SSRF guard, and inputs that
// fail before any connection.
import { createServer as createNetServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { groveApi } from "../../src/executors/grove-api.js";
import { RPC } from "../../src/server/errors.js";
import { ok, startServer, type TestServer } from "../server/helpers.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";

let peer: TestServer;
let connections = 0;
const ENV = "GROVE_TEST_PEER_KEY";
let saved: string | undefined;

beforeAll(async () => {
  peer = await startServer();
  peer.server.app.server.on("connection", () => connections++);
  saved = process.env[ENV];
  process.env[ENV] = await peer.key("acme/peer");
}, 60_000);

afterAll(async () => {
  await peer?.close();
  if (saved === undefined) delete process.env[ENV];
  else process.env[ENV] = saved;
});

const echo = (text: string) => ({ name: "remote", tasks: [{ name: "say", executor: "command", inputs: { command: `echo ${text}` } }] });
const call = (inputs: Record<string, unknown>, opts: { allowPrivateNetwork?: boolean; controller?: AbortController } = {}) =>
  runExecutor<any>(groveApi, { url: peer.url, api_key_env: ENV, ...inputs }, makeCtx({ allowPrivateNetwork: true, ...opts }).ctx);

describe("grove_api executor", () => {
  it("runs an inline tree on the peer, following its SSE stream, as a task of a local tree", async () => {
    const t = await runTask("grove_api", { url: peer.url, api_key_env: ENV, tree: echo("from-afar"), inputs: { who: "acme" } }, { allowPrivateNetwork: true });
    expect(t.error).toBeNull();
    expect(t.status).toBe("completed");
    expect(t.result.status).toBe("completed");
    expect(t.result.tasks[0].result.stdout).toBe("from-afar\n");
    expect(t.result.events).toBeGreaterThan(0);
    // The tree is the peer's, owned by the key's scope.
    const remote = await ok(peer.url, process.env[ENV]!, "tasks.tree", { id: t.result.tree_id });
    expect(remote.status).toBe("completed");
    expect((await ok(peer.url, process.env[ENV]!, "tasks.get", { id: remote.tasks[0].id })).owner).toBe("acme/peer");
  });

  it("runs a stored tree by id, waiting by polling", async () => {
    const created = await ok(peer.url, process.env[ENV]!, "tasks.create", { tree: echo("stored") });
    const out = await call({ tree_id: created.tree_id, wait: "poll", poll_interval_ms: 50 });
    expect(out).toMatchObject({ tree_id: created.tree_id, status: "completed", task: null, events: 0 });
    expect(out.tasks[0].result.stdout).toBe("stored\n");
  });

  it("runs the tree of a stored task and answers with that task", async () => {
    const created = await ok(peer.url, process.env[ENV]!, "tasks.create", { tree: { name: "two", tasks: [{ name: "a", executor: "command", inputs: { command: "echo a" } }, { name: "b", executor: "command", inputs: { command: "echo b" } }] } });
    const b = created.tasks.find((x: { name: string }) => x.name === "b");
    const out = await call({ task_id: b.id });
    expect(out.task).toMatchObject({ id: b.id, name: "b", status: "completed" });
    expect(out.task.result.stdout).toBe("b\n");
  });

  it("with wait: none, answers once the tree is started", async () => {
    const out = await call({ tree: echo("later"), wait: "none" });
    expect(out.tree_id).toMatch(/.+/);
    let tree = await ok(peer.url, process.env[ENV]!, "tasks.tree", { id: out.tree_id });
    while (tree.status === "running") tree = await ok(peer.url, process.env[ENV]!, "tasks.tree", { id: out.tree_id });
    expect(tree.status).toBe("completed");
  });

  it("a failed remote tree fails the task (naming the remote task), unless allow_failure", async () => {
    const failing = { name: "bad", tasks: [{ name: "boom", executor: "command", inputs: { command: "echo nope >&2; exit 3" } }] };
    const f = await failureOf(call({ tree: failing }));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/remote tree bad failed: boom: .*nope/);
    const allowed = await call({ tree: failing, allow_failure: true, wait: "poll", poll_interval_ms: 50 });
    expect(allowed.status).toBe("failed");
    expect(allowed.tasks[0].error.type).toBe("exit_code");
  });

  it("an invalid remote tree is a validation error with the peer's message", async () => {
    const f = await failureOf(call({ tree: { name: "x", tasks: [{ name: "a", executor: "no-such-executor" }] } }));
    expect(f.type).toBe("validation_error");
    expect(f.message).toMatch(/no-such-executor/);
    expect(f.message).toContain(`(code ${RPC.VALIDATION})`);
  });

  it("timeout_ms fails the task with a timeout and cancels the remote tree", async () => {
    const slow = { name: "slow", tasks: [{ name: "wait", executor: "command", inputs: { command: "sleep 30" } }] };
    const ctx = makeCtx({ allowPrivateNetwork: true });
    const f = await failureOf(runExecutor(groveApi, { url: peer.url, api_key_env: ENV, tree: slow, timeout_ms: 1500 }, ctx.ctx));
    expect(f.type).toBe("timeout");
    expect(f.message).toMatch(/timed out after 1500 ms/);
    const started = ctx.logs.find((l) => l.data?.tree_id)!;
    const treeId = started.data!.tree_id as string;
    let tree = await ok(peer.url, process.env[ENV]!, "tasks.tree", { id: treeId });
    while (tree.status === "running") tree = await ok(peer.url, process.env[ENV]!, "tasks.tree", { id: treeId });
    expect(tree.status).toBe("cancelled");
  });

  it("a wrong key is refused by the peer (unauthorized)", async () => {
    process.env.GROVE_TEST_BAD_KEY = "grove_not-a-key";
    try {
      const f = await failureOf(runExecutor(groveApi, { url: peer.url, api_key_env: "GROVE_TEST_BAD_KEY", tree: echo("x") }, makeCtx().ctx));
      expect(f.type).toBe("executor_error");
      expect(f.message).toContain(`(code ${RPC.UNAUTHORIZED})`);
      expect(f.message).not.toContain("grove_not-a-key");
    } finally {
      delete process.env.GROVE_TEST_BAD_KEY;
    }
  });

  it("an unreachable peer fails with a clear error within the timeout", async () => {
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createNetServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const f = await failureOf(runExecutor(groveApi, { url: `http://127.0.0.1:${port}`, api_key_env: ENV, tree: echo("x"), timeout_ms: 10_000 }, makeCtx().ctx));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(new RegExp(`grove_api http://127\\.0\\.0\\.1:${port}: tasks\\.execute: .*(fetch failed|ECONNREFUSED)`));
  });
});

describe("grove_api: refused before any connection", () => {
  it("refuses loopback and private targets unless private addresses are allowed", async () => {
    const before = connections;
    const t = await runTask("grove_api", { url: peer.url, api_key_env: ENV, tree: echo("x") });
    expect(t.status).toBe("failed");
    expect(t.error!.message).toMatch(/refusing http:\/\/127\.0\.0\.1:\d+\/: 127\.0\.0\.1 is a loopback address/);
    const named = await failureOf(runExecutor(groveApi, { url: `http://localhost:${new URL(peer.url).port}`, api_key_env: ENV, tree: echo("x") }, makeCtx({ allowPrivateNetwork: false }).ctx));
    expect(named.message).toMatch(/localhost resolves to .*, which is a loopback address/);
    for (const host of ["10.0.0.1", "169.254.169.254", "192.168.1.1", "[::1]"]) {
      const f = await failureOf(runExecutor(groveApi, { url: `http://${host}:8420`, api_key_env: ENV, tree: echo("x") }, makeCtx({ allowPrivateNetwork: false }).ctx));
      expect(f.message, host).toMatch(/refusing/);
    }
    expect(connections).toBe(before);
  });

  it("invalid inputs fail before any connection, naming the field", async () => {
    const before = connections;
    await expect(runTask("grove_api", { url: peer.url, tree: echo("x") }, { allowPrivateNetwork: true })).rejects.toThrow(/inputs\.api_key_env is required/);
    await expect(runTask("grove_api", { url: "ftp://x", api_key_env: ENV, tree: echo("x") }, { allowPrivateNetwork: true })).rejects.toThrow(/inputs\.url must match pattern/);
    await expect(runTask("grove_api", { url: peer.url, api_key_env: "not a name", tree: echo("x") }, { allowPrivateNetwork: true })).rejects.toThrow(/inputs\.api_key_env/);
    await expect(runTask("grove_api", { url: peer.url, api_key_env: ENV, api_key: "literal", tree: echo("x") }, { allowPrivateNetwork: true })).rejects.toThrow(/api_key/);
    await expect(runTask("grove_api", { url: peer.url, api_key_env: ENV, tree: echo("x"), wait: "sometimes" }, { allowPrivateNetwork: true })).rejects.toThrow(/inputs\.wait/);
    const both = await failureOf(call({ tree: echo("x"), tree_id: "t1" }));
    expect(both.type).toBe("validation_error");
    expect(both.message).toMatch(/exactly one of tree, tree_id, task_id \(got tree and tree_id\)/);
    expect((await failureOf(call({}))).message).toMatch(/exactly one of tree, tree_id, task_id/);
    const unset = await failureOf(runExecutor(groveApi, { url: peer.url, api_key_env: "GROVE_TEST_UNSET_KEY", tree: echo("x") }, makeCtx().ctx));
    expect(unset).toMatchObject({ type: "validation_error", message: "api_key_env: environment variable GROVE_TEST_UNSET_KEY is not set" });
    const creds = await failureOf(runExecutor(groveApi, { url: peer.url.replace("http://", "http://u:p@"), api_key_env: ENV, tree: echo("x") }, makeCtx().ctx));
    expect(creds.message).toMatch(/must not carry credentials/);
    expect(connections).toBe(before);
  });
});
