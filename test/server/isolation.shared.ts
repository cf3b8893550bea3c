// Tenant isolation (DESIGN §8): keys for acme/a, acme/ab and acme/b. Whatever acme/a owns —
// trees, tasks, their logs and event streams, schedules, their runs and webhooks — acme/ab and
// acme/b can neither read nor change (scopes match whole path segments: acme/a does not contain
// acme/ab). The same holds for approvals (a task of acme/a waiting for one) and machines (one
// registered for acme/a). Without a credential every route but /health (and the dashboard's static
// page) answers 401.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ApprovalRequired } from "../../src/core/errors.js";
import { defineExecutor } from "../../src/core/executor.js";
import { MachineRegistry } from "../../src/machines/registry.js";
import { RPC } from "../../src/server/errors.js";
import { echoTree, ok, post, readSse, rpc, startServer, type TestServer } from "./helpers.js";

/** Pauses for approval; resumed, returns the decision. */
const gate = defineExecutor({
  id: "gate",
  name: "gate",
  description: "waits for a human",
  input: z.object({ command: z.string() }),
  async execute(inputs, ctx) {
    if (!ctx.resume) throw new ApprovalRequired({ command: inputs.command, reasons: ["test gate"], risk: "medium" }, { asked: inputs.command });
    return { decision: ctx.resume.decision };
  },
});

export function isolationSuite(kind: string, db: () => Promise<string | undefined>) {
  describe(`tenant isolation (${kind})`, () => {
    let s: TestServer;
    const keys: Record<string, string> = {};
    let treeId: string;
    let taskId: string;
    let gateTaskId: string;

    beforeAll(async () => {
      // The server's executors (bound to the machines of its store, as grove serve's), plus the gate.
      s = await startServer({ db: await db() });
      s.server.services.registry.register(gate, { override: true });
      expect(s.server.services.machines).toBeInstanceOf(MachineRegistry);
      for (const scope of ["acme/a", "acme/ab", "acme/b", "acme"]) keys[scope] = await s.key(scope);
      const result = await ok(s.url, keys["acme/a"]!, "tasks.execute", { tree: echoTree("mine") });
      expect(result.status).toBe("completed");
      treeId = result.tree_id;
      taskId = result.tasks[0].id;
      await ok(s.url, keys["acme/a"]!, "schedules.add", { name: "nightly", every: "1h", tree: echoTree("nightly") });
      await ok(s.url, keys["acme/a"]!, "schedules.webhook", { name: "nightly" });
      const paused = await ok(s.url, keys["acme/a"]!, "tasks.execute", { tree: { name: "gated", tasks: [{ name: "deploy", executor: "gate", inputs: { command: "deploy prod" } }] } });
      expect(paused.status).toBe("running");
      gateTaskId = paused.tasks[0].id;
      expect(paused.tasks[0].status).toBe("waiting_approval");
      await s.server.services.machines!.add("acme/a", { name: "a-box", host: "127.0.0.1", port: 1, username: "nobody" });
    }, 60_000);
    afterAll(async () => {
      await s?.close();
    });

    // Every method that names a task, tree or schedule, with acme/a's ids.
    const crossScope = () => [
      ["tasks.get", { id: taskId }],
      ["tasks.tree", { id: treeId }],
      ["tasks.tree", { id: taskId }],
      ["tasks.logs", { id: treeId }],
      ["tasks.logs", { id: taskId }],
      ["tasks.cancel", { id: treeId }],
      ["tasks.cancel", { id: taskId }],
      ["tasks.retry", { id: taskId }],
      ["tasks.execute", { tree_id: treeId }],
      ["schedules.show", { name: "nightly" }],
      ["schedules.logs", { name: "nightly" }],
      ["schedules.run", { name: "nightly" }],
      ["schedules.webhook", { name: "nightly" }],
      ["schedules.delete", { name: "nightly" }],
      ["tasks.approve", { id: gateTaskId }],
      ["tasks.reject", { id: gateTaskId }],
      ["tasks.approve", { id: gateTaskId, wait: true }],
      ["machines.test", { name: "a-box" }],
      ["machines.remove", { name: "a-box" }],
      ["agent.run", { prompt: "uptime", machine: "a-box" }],
      ["agent.run", { prompt: "uptime", machine: "a-box", stream: true }],
    ] as const;
    // Methods that name no resource: they can only act within the caller's own scope.
    // (machines.add needs an operator credential: refused with -32003 for every tenant, below.)
    const scopeOnly = ["tasks.create", "tasks.list", "trees.list", "tasks.approvals", "schedules.add", "schedules.list", "executors.list", "executors.schema", "machines.list", "machines.add"];

    it("the suite covers every registered method", () => {
      const covered = new Set([...crossScope().map(([m]) => m), ...scopeOnly]);
      for (const m of s.server.methods.list()) expect(covered, `method ${m.name} is not in the isolation suite`).toContain(m.name);
    });

    it("the owner and its parent scope see acme/a's tree, task, logs and schedule", async () => {
      for (const scope of ["acme/a", "acme"]) {
        const k = keys[scope]!;
        expect((await ok(s.url, k, "tasks.get", { id: taskId })).owner).toBe("acme/a");
        expect((await ok(s.url, k, "tasks.tree", { id: treeId })).tree_id).toBe(treeId);
        expect((await ok(s.url, k, "tasks.logs", { id: treeId })).length).toBeGreaterThan(0);
        expect((await ok(s.url, k, "tasks.list", {})).map((t: { id: string }) => t.id)).toContain(taskId);
        expect((await ok(s.url, k, "trees.list", {})).map((t: { tree_id: string }) => t.tree_id)).toContain(treeId);
        expect((await ok(s.url, k, "schedules.list", {})).map((x: { name: string }) => x.name)).toEqual(["nightly"]);
        expect((await ok(s.url, k, "schedules.show", { name: "nightly" })).owner).toBe("acme/a");
        const sse = await readSse(`${s.url}/trees/${treeId}/events`, { authorization: `Bearer ${k}` });
        expect(sse.status).toBe(200);
        expect(sse.frames.at(-1)?.event).toBe("end");
        expect((await ok(s.url, k, "tasks.approvals", {})).map((a: { task_id: string }) => a.task_id)).toEqual([gateTaskId]);
        expect((await ok(s.url, k, "machines.list", {})).map((m: { name: string; owner: string }) => `${m.owner}:${m.name}`)).toEqual([":local", "acme/a:a-box"]);
      }
    });

    it("the owner approves its task over the API and the server resumes it; acme/a cannot add machines, an operator can", async () => {
      const k = keys["acme/a"]!;
      expect((await rpc(s.url, k, "machines.add", { name: "b", owner: "acme/a", host: "10.0.0.1", user: "root" })).body.error?.code).toBe(RPC.FORBIDDEN);
      const operator = await s.key("/", "operator");
      const added = await ok(s.url, operator, "machines.add", { name: "b-box", owner: "acme/b", host: "127.0.0.1", port: 1, user: "nobody", labels: { role: "db" } });
      expect(added).toMatchObject({ name: "b-box", owner: "acme/b", kind: "ssh", labels: { role: "db" } });
      expect((await ok(s.url, keys["acme/b"]!, "machines.list", {})).map((m: { name: string }) => m.name)).toEqual(["local", "b-box"]);
      expect((await ok(s.url, k, "machines.list", {})).map((m: { name: string }) => m.name)).not.toContain("b-box");
      expect((await rpc(s.url, k, "machines.remove", { name: "b-box" })).body.error?.code).toBe(RPC.NOT_FOUND);
      expect(await ok(s.url, keys["acme/b"]!, "machines.remove", { name: "b-box" })).toEqual({ name: "b-box", owner: "acme/b", removed: true });
      // A second gated task of acme/a, approved by acme/a and run to its end by the server.
      const paused = await ok(s.url, k, "tasks.execute", { tree: { name: "gated2", tasks: [{ name: "deploy", executor: "gate", inputs: { command: "deploy staging" } }] } });
      const id = paused.tasks[0].id;
      const decided = await ok(s.url, k, "tasks.approve", { id, reason: "looks fine", wait: true });
      expect(decided).toMatchObject({ id, decision: "approved", reason: "looks fine", status: "completed" });
      expect((await ok(s.url, k, "tasks.get", { id })).result).toEqual({ decision: "approved" });
      expect((await rpc(s.url, k, "tasks.reject", { id })).body.error?.code).toBe(RPC.CONFLICT);
    });

    for (const other of ["acme/ab", "acme/b"]) {
      it(`${other} gets not-found for every method on acme/a's resources`, async () => {
        for (const [method, params] of crossScope()) {
          const r = await rpc(s.url, keys[other], method, params);
          expect(r.status, `${method} ${JSON.stringify(params)}`).toBe(200);
          expect(r.body.error?.code, `${method} ${JSON.stringify(params)}: ${JSON.stringify(r.body)}`).toBe(RPC.NOT_FOUND);
        }
        // Nothing was changed by those attempts.
        const tree = await ok(s.url, keys["acme/a"]!, "tasks.tree", { id: treeId });
        expect(tree.status).toBe("completed");
        expect((await ok(s.url, keys["acme/a"]!, "schedules.show", { name: "nightly" })).deleted_at).toBeNull();
        expect((await ok(s.url, keys["acme/a"]!, "schedules.show", { name: "nightly" })).run_count).toBe(0);
        expect((await ok(s.url, keys["acme/a"]!, "tasks.get", { id: gateTaskId })).status).toBe("waiting_approval");
        expect((await ok(s.url, keys["acme/a"]!, "machines.list", {})).map((m: { name: string }) => m.name)).toContain("a-box");
        expect(await ok(s.url, keys[other]!, "tasks.list", { executor: "agent" })).toEqual([]);
      });

      it(`${other} sees none of acme/a's approvals or machines, and cannot add machines`, async () => {
        const k = keys[other]!;
        expect(await ok(s.url, k, "tasks.approvals", {})).toEqual([]);
        expect(await ok(s.url, k, "tasks.approvals", { tree_id: (await ok(s.url, keys["acme/a"]!, "tasks.get", { id: gateTaskId })).tree_id })).toEqual([]);
        expect((await ok(s.url, k, "machines.list", {})).map((m: { name: string }) => m.name)).toEqual(["local"]);
        const add = await rpc(s.url, k, "machines.add", { name: "a-box", owner: "acme/a", host: "10.0.0.1", user: "root" });
        expect(add.body.error?.code).toBe(RPC.FORBIDDEN);
        expect((await ok(s.url, k, "machines.list", {})).map((m: { name: string }) => m.name)).toEqual(["local"]);
      });

      it(`${other} lists none of acme/a's tasks, events or schedules`, async () => {
        const k = keys[other]!;
        expect(await ok(s.url, k, "tasks.list", {})).toEqual([]);
        expect(await ok(s.url, k, "tasks.list", { tree_id: treeId })).toEqual([]);
        expect(await ok(s.url, k, "trees.list", {})).toEqual([]);
        expect(await ok(s.url, k, "schedules.list", { all: true })).toEqual([]);
      });

      it(`${other} cannot open acme/a's event streams`, async () => {
        for (const path of [`/trees/${treeId}/events`, `/tasks/${taskId}/events`]) {
          const r = await readSse(`${s.url}${path}`, { authorization: `Bearer ${keys[other]}` });
          expect(r.status, path).toBe(404);
          expect(r.frames).toEqual([]);
        }
      });
    }

    it("a tree created by acme/ab is owned by acme/ab whatever the params say", async () => {
      const r = await rpc(s.url, keys["acme/ab"], "tasks.create", { tree: echoTree("theirs"), owner: "acme/a" });
      expect(r.body.error.code).toBe(RPC.INVALID_PARAMS);
      const created = await ok(s.url, keys["acme/ab"]!, "tasks.create", { tree: echoTree("theirs") });
      const task = await ok(s.url, keys["acme/ab"]!, "tasks.get", { id: created.tasks[0].id });
      expect(task.owner).toBe("acme/ab");
      expect((await rpc(s.url, keys["acme/a"], "tasks.get", { id: created.tasks[0].id })).body.error.code).toBe(RPC.NOT_FOUND);
    });

    it("no credential, a bad key or a revoked key: 401 everywhere but /health", async () => {
      const revoked = await s.server.services.keys.create({ name: "old", scope: "acme/a" });
      await s.server.services.keys.revoke(revoked.id);
      const routes: [string, string][] = [
        ["POST", "/rpc"],
        ["GET", "/rpc/methods"],
        ["GET", "/metrics"],
        ["GET", `/trees/${treeId}/events`],
        ["GET", `/tasks/${taskId}/events`],
        ["POST", "/mcp"],
        ["GET", "/no-such-route"],
      ];
      for (const auth of [undefined, "Bearer grove_not-a-key", `Bearer ${revoked.key}`, "Basic abc", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"]) {
        for (const [method, path] of routes) {
          const res = await fetch(`${s.url}${path}`, {
            method,
            headers: auth ? { authorization: auth, "content-type": "application/json" } : { "content-type": "application/json" },
            body: method === "POST" ? JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks.list" }) : undefined,
          });
          expect(res.status, `${method} ${path} with ${auth}`).toBe(401);
          const body = (await res.json()) as { error: { code: number } };
          expect(body.error.code).toBe(RPC.UNAUTHORIZED);
        }
      }
      const health = await fetch(`${s.url}/health`);
      expect(health.status).toBe(200);
      // The dashboard's page (no data in it) is public; a path next to its routes is not.
      for (const path of ["/", "/trees", `/trees/${treeId}`, `/tasks/${taskId}`]) {
        const page = await fetch(`${s.url}${path}`);
        expect(page.status, path).not.toBe(401);
        expect(await page.text(), path).not.toContain("acme/a");
      }
      expect((await fetch(`${s.url}/trees/${treeId}/x`)).status).toBe(401);
      // A webhook without a signature is refused too.
      expect((await post(`${s.url}/hooks/schedules/nightly`, "{}")).status).toBe(401);
    });
  });
}
