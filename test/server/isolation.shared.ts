// Tenant isolation (DESIGN §8): keys for acme/a, acme/ab and acme/b. Whatever acme/a owns —
// trees, tasks, their logs and event streams, schedules, their runs and webhooks — acme/ab and
// acme/b can neither read nor change (scopes match whole path segments: acme/a does not contain
// acme/ab). Without a credential every route but /health (and the dashboard's static page) answers 401.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RPC } from "../../src/server/errors.js";
import { echoTree, ok, post, readSse, rpc, startServer, type TestServer } from "./helpers.js";

export function isolationSuite(kind: string, db: () => Promise<string | undefined>) {
  describe(`tenant isolation (${kind})`, () => {
    let s: TestServer;
    const keys: Record<string, string> = {};
    let treeId: string;
    let taskId: string;

    beforeAll(async () => {
      s = await startServer({ db: await db() });
      for (const scope of ["acme/a", "acme/ab", "acme/b", "acme"]) keys[scope] = await s.key(scope);
      const result = await ok(s.url, keys["acme/a"]!, "tasks.execute", { tree: echoTree("mine") });
      expect(result.status).toBe("completed");
      treeId = result.tree_id;
      taskId = result.tasks[0].id;
      await ok(s.url, keys["acme/a"]!, "schedules.add", { name: "nightly", every: "1h", tree: echoTree("nightly") });
      await ok(s.url, keys["acme/a"]!, "schedules.webhook", { name: "nightly" });
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
    ] as const;
    // Methods that name no resource: they can only act within the caller's own scope.
    const scopeOnly = ["tasks.create", "tasks.list", "trees.list", "schedules.add", "schedules.list", "executors.list", "executors.schema"];

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
      }
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
