// The Store conformance suite (DESIGN §6). It uses the Store interface only: every store
// implementation runs it unchanged (sqlite.test.ts, and postgres.test.ts later).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IllegalTransitionError, type ApprovalRequest } from "../../src/core/errors.js";
import { uuidv7 } from "../../src/core/ids.js";
import { DEFAULT_RETRY, type GroveEvent, type NewTask, type NewTree, type TaskStatus } from "../../src/core/types.js";
import type { Store } from "../../src/store/store.js";

interface Spec {
  name: string;
  deps?: (string | [string, boolean])[];
  parent?: string;
  priority?: number;
  placement?: Record<string, string>;
  max_attempts?: number;
  lease_ms?: number;
}

/** Builds a NewTree by hand (no tree/ parsing): root = the task without parent listed last. */
export function makeTree(specs: Spec[], opts: { owner?: string; name?: string } = {}): NewTree & { ids: Record<string, string> } {
  const ids: Record<string, string> = {};
  for (const s of specs) ids[s.name] = uuidv7();
  const tasks: NewTask[] = specs.map((s) => ({
    id: ids[s.name]!,
    parent_id: s.parent ? ids[s.parent]! : null,
    name: s.name,
    executor: "noop",
    inputs: { n: s.name },
    dependencies: (s.deps ?? []).map((d) => (Array.isArray(d) ? { task: ids[d[0]]!, required: d[1] } : { task: ids[d]!, required: true })),
    priority: s.priority ?? 2,
    retry: { ...DEFAULT_RETRY, max_attempts: s.max_attempts ?? 1 },
    timeout_ms: null,
    lease_ms: s.lease_ms ?? null,
    placement: s.placement ?? {},
  }));
  const roots = specs.filter((s) => !s.parent);
  return { id: uuidv7(), name: opts.name ?? "t", owner: opts.owner ?? "", inputs: { day: "mon" }, root_id: ids[roots[roots.length - 1]!.name]!, tasks, ids };
}

export function storeConformance(label: string, open: () => Promise<Store>): void {
  describe(`Store conformance: ${label}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    const W = "worker-a";
    const claimAll = (treeId?: string, workerId = W, limit = 100) => store.claim({ workerId, limit, leaseMs: 30_000, treeId });
    const status = async (id: string) => (await store.getTask(id))!.status;
    const complete = (id: string, result: unknown = { ok: true }, workerId = W) => store.finish([{ taskId: id, workerId, kind: "completed", result }]);
    const failTask = (id: string, workerId = W) => store.finish([{ taskId: id, workerId, kind: "failed", error: { type: "executor_error", message: "boom" } }]);

    it("creates a tree atomically: tasks without dependencies are ready, the others pending", async () => {
      const t = makeTree([{ name: "a" }, { name: "b", deps: ["a"] }, { name: "root", deps: ["a", "b"] }]);
      const tree = await store.createTree(t);
      expect(tree).toMatchObject({ id: t.id, status: "running", root_id: t.ids.root, inputs: { day: "mon" } });
      expect(await status(t.ids.a!)).toBe("ready");
      expect(await status(t.ids.b!)).toBe("pending");
      const task = (await store.getTask(t.ids.b!))!;
      expect(task).toMatchObject({ name: "b", executor: "noop", inputs: { n: "b" }, attempts: 0, priority: 2, tree_id: t.id });
      expect(task.dependencies).toEqual([{ task: t.ids.a, required: true }]);
      const created = await store.events({ treeId: t.id });
      expect(created.filter((e) => e.type === "task.created")).toHaveLength(3);
    });

    it("rejects a tree whose task names collide, storing nothing", async () => {
      const t = makeTree([{ name: "a" }, { name: "root", deps: ["a"] }]);
      t.tasks[1]!.name = "a";
      await expect(store.createTree(t)).rejects.toThrow();
      expect(await store.getTree(t.id)).toBeUndefined();
      expect(await store.getTask(t.ids.a!)).toBeUndefined();
    });

    it("claims in priority order, 0 first, then by age, up to the limit", async () => {
      const t = makeTree([{ name: "p3", priority: 3 }, { name: "p0", priority: 0 }, { name: "p2", priority: 2 }, { name: "p1", priority: 1 }, { name: "root", deps: ["p3", "p0", "p2", "p1"] }]);
      await store.createTree(t);
      const first = await claimAll(t.id, W, 2);
      expect(first.map((x) => x.name)).toEqual(["p0", "p1"]);
      expect(first[0]).toMatchObject({ status: "running", attempts: 1, lease_owner: W });
      const rest = await claimAll(t.id);
      expect(rest.map((x) => x.name)).toEqual(["p2", "p3"]);
      expect(await claimAll(t.id)).toEqual([]);
    });

    it("never hands the same task to two claims", async () => {
      const specs: Spec[] = Array.from({ length: 50 }, (_, i) => ({ name: `t${i}` }));
      const t = makeTree([...specs, { name: "root", deps: specs.map((s) => s.name) }]);
      await store.createTree(t);
      const results = await Promise.all([claimAll(t.id, "w1", 20), claimAll(t.id, "w2", 20), claimAll(t.id, "w3", 20)]);
      const ids = results.flat().map((x) => x.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(50);
    });

    it("claims only a tree's own tasks when asked, and honours placement labels", async () => {
      const a = makeTree([{ name: "x", placement: { machine: "b" } }, { name: "root", deps: ["x"] }]);
      const other = makeTree([{ name: "y" }]);
      await store.createTree(a);
      await store.createTree(other);
      expect((await claimAll(a.id)).map((x) => x.name)).toEqual([]);
      expect((await store.claim({ workerId: "wa", limit: 10, leaseMs: 1000, treeId: a.id, labels: { machine: "a" } })).length).toBe(0);
      const onB = await store.claim({ workerId: "wb", limit: 10, leaseMs: 1000, treeId: a.id, labels: { machine: "b", zone: "z" } });
      expect(onB.map((x) => x.name)).toEqual(["x"]);
      expect((await claimAll(other.id)).map((x) => x.name)).toEqual(["y"]);
    });

    it("completing a task releases its dependents and finishes the tree with its root", async () => {
      const t = makeTree([{ name: "a" }, { name: "b", deps: ["a"] }, { name: "root", deps: ["b"] }]);
      await store.createTree(t);
      const [a] = await claimAll(t.id);
      expect(await complete(a!.id, { v: 1 })).toEqual([true]);
      expect((await store.getTask(a!.id))!).toMatchObject({ status: "completed", result: { v: 1 }, lease_owner: null });
      expect(await status(t.ids.b!)).toBe("ready");
      const [b] = await claimAll(t.id);
      await complete(b!.id);
      const [root] = await claimAll(t.id);
      expect(root!.name).toBe("root");
      expect((await store.getTree(t.id))!.status).toBe("running");
      await complete(root!.id);
      const tree = (await store.getTree(t.id))!;
      expect(tree.status).toBe("completed");
      expect(tree.finished_at).not.toBeNull();
      const types = (await store.events({ treeId: t.id })).map((e) => e.type);
      expect(types[types.length - 1]).toBe("tree.completed");
    });

    it("a failed required dependency skips its dependents transitively; the tree fails", async () => {
      const t = makeTree([{ name: "a" }, { name: "b", deps: ["a"] }, { name: "c", deps: ["b"] }, { name: "root", deps: ["c"] }]);
      await store.createTree(t);
      const [a] = await claimAll(t.id);
      await failTask(a!.id);
      for (const n of ["b", "c", "root"]) {
        const task = (await store.getTask(t.ids[n]!))!;
        expect(task.status).toBe("skipped");
        expect(task.error?.type).toBe("dependency_failed");
      }
      expect((await store.getTask(t.ids.b!))!.error?.message).toContain('"a"');
      expect((await store.getTree(t.id))!.status).toBe("failed");
    });

    it("an optional dependency is waited for, then the dependent runs even though it failed", async () => {
      const t = makeTree([{ name: "a" }, { name: "root", deps: [["a", false]] }]);
      await store.createTree(t);
      expect(await status(t.ids.root!)).toBe("pending");
      const [a] = await claimAll(t.id);
      await failTask(a!.id);
      expect(await status(t.ids.root!)).toBe("ready");
    });

    it("a retry outcome puts the task back to ready after run_after", async () => {
      const t = makeTree([{ name: "a", max_attempts: 3 }]);
      await store.createTree(t);
      const [a] = await claimAll(t.id);
      const retryAt = Date.now() + 60_000;
      await store.finish([{ taskId: a!.id, workerId: W, kind: "failed", error: { type: "exit_code", message: "x" }, retryAt }]);
      const task = (await store.getTask(a!.id))!;
      expect(task).toMatchObject({ status: "ready", run_after: retryAt, attempts: 1 });
      expect(task.error?.type).toBe("exit_code");
      expect(await claimAll(t.id)).toEqual([]);
      expect(await store.nextRunAfter(t.id)).toBe(retryAt);
      const later = await store.claim({ workerId: W, limit: 1, leaseMs: 1000, now: retryAt + 1 });
      expect(later.map((x) => x.attempts)).toEqual([2]);
    });

    it("refuses illegal transitions", async () => {
      const t = makeTree([{ name: "a" }, { name: "root", deps: ["a"] }]);
      await store.createTree(t);
      // ready → completed without running
      await expect(complete(t.ids.a!)).rejects.toBeInstanceOf(IllegalTransitionError);
      // pending → completed
      await expect(complete(t.ids.root!)).rejects.toBeInstanceOf(IllegalTransitionError);
      const [a] = await claimAll(t.id);
      await complete(a!.id);
      // completed → cancelled, completed → ready
      await expect(store.cancel(a!.id)).rejects.toBeInstanceOf(IllegalTransitionError);
      await expect(store.retry(a!.id)).rejects.toBeInstanceOf(IllegalTransitionError);
      expect(await status(a!.id)).toBe("completed");
    });

    it("a worker that lost its lease cannot finish the task", async () => {
      const t = makeTree([{ name: "a" }]);
      await store.createTree(t);
      const [a] = await claimAll(t.id);
      expect(await complete(a!.id, {}, "someone-else")).toEqual([false]);
      expect(await status(a!.id)).toBe("running");
    });

    it("cancels a whole tree: unfinished tasks cancelled, running ones no longer held, tree cancelled", async () => {
      const t = makeTree([{ name: "a" }, { name: "b" }, { name: "root", deps: ["a", "b"] }]);
      await store.createTree(t);
      const [a] = await claimAll(t.id, W, 1);
      const n = await store.cancel(t.id);
      expect(n).toBe(3);
      for (const id of Object.values(t.ids)) expect(await status(id)).toBe("cancelled");
      expect(await store.stillHeld(W, [a!.id])).toEqual([]);
      expect(await complete(a!.id)).toEqual([false]);
      expect((await store.getTree(t.id))!.status).toBe("cancelled");
    });

    it("cancelling one task skips its dependents", async () => {
      const t = makeTree([{ name: "a" }, { name: "b", deps: ["a"] }, { name: "other" }, { name: "root", deps: [["b", false], "other"] }]);
      await store.createTree(t);
      await store.cancel(t.ids.a!);
      expect(await status(t.ids.a!)).toBe("cancelled");
      expect(await status(t.ids.b!)).toBe("skipped");
      expect(await status(t.ids.root!)).toBe("pending");
    });

    it("heartbeats extend leases; expired leases go back to ready with the attempt recorded", async () => {
      const t = makeTree([{ name: "a", max_attempts: 1 }]);
      await store.createTree(t);
      const [a] = await store.claim({ workerId: W, limit: 1, leaseMs: 50 });
      expect(await store.heartbeat(W, [a!.id], 60_000)).toEqual([a!.id]);
      expect(await store.heartbeat("other", [a!.id], 60_000)).toEqual([]);
      expect(await store.recoverExpired(Date.now() + 1000)).toBe(0);
      expect(await store.recoverExpired(Date.now() + 120_000)).toBe(1);
      expect(await status(a!.id)).toBe("ready");
      const [again] = await store.claim({ workerId: "w2", limit: 1, leaseMs: 30_000, now: Date.now() + 120_001 });
      expect(again!.attempts).toBe(2);
      const attempts = await store.attempts(a!.id);
      expect(attempts.map((x) => [x.attempt, x.worker, x.outcome])).toEqual([
        [1, W, "lease_expired"],
        [2, "w2", "running"],
      ]);
    });

    it("a task's own lease_ms overrides the worker's lease", async () => {
      const t = makeTree([{ name: "short", lease_ms: 200 }, { name: "normal" }, { name: "root", deps: ["short", "normal"] }]);
      await store.createTree(t);
      const claimed = await store.claim({ workerId: W, limit: 10, leaseMs: 60_000 });
      const short = claimed.find((c) => c.name === "short")!;
      const normal = claimed.find((c) => c.name === "normal")!;
      expect(short.lease_ms).toBe(200);
      expect(short.lease_expires_at! - short.started_at!).toBe(200);
      expect(normal.lease_expires_at! - normal.started_at!).toBe(60_000);
      expect(await store.recoverExpired(Date.now() + 5_000)).toBe(1);
      expect(await status(short.id)).toBe("ready");
      expect(await status(normal.id)).toBe("running");
    });

    it("waitForWork returns at the timeout, or early when aborted", async () => {
      const t0 = Date.now();
      await store.waitForWork(100);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
      const ac = new AbortController();
      const t1 = Date.now();
      setTimeout(() => ac.abort(), 20);
      await store.waitForWork(5_000, ac.signal);
      expect(Date.now() - t1).toBeLessThan(1_000);
    });

    it("a task whose lease keeps expiring is failed instead of looping forever", async () => {
      const t = makeTree([{ name: "a" }]);
      await store.createTree(t);
      let now = Date.now();
      for (let i = 0; i < 10; i++) {
        now += 100_000;
        const claimed = await store.claim({ workerId: `w${i}`, limit: 1, leaseMs: 10, now });
        if (claimed.length === 0) break;
        await store.recoverExpired(now + 1000);
      }
      const task = (await store.getTask(t.ids.a!))!;
      expect(task.status).toBe("failed");
      expect(task.attempts).toBeLessThanOrEqual(5);
      expect((await store.getTree(t.id))!.status).toBe("failed");
    });

    it("release hands running tasks back without a failure", async () => {
      const t = makeTree([{ name: "a" }]);
      await store.createTree(t);
      const [a] = await claimAll(t.id);
      expect(await store.release(W, [a!.id])).toBe(1);
      expect(await status(a!.id)).toBe("ready");
      expect((await store.attempts(a!.id))[0]!.outcome).toBe("lost");
    });

    it("retry resets a failed task and the dependents skipped because of it", async () => {
      const t = makeTree([{ name: "a" }, { name: "b", deps: ["a"] }, { name: "ok" }, { name: "root", deps: ["b", "ok"] }]);
      await store.createTree(t);
      const claimed = await claimAll(t.id);
      await failTask(claimed.find((x) => x.name === "a")!.id);
      await complete(claimed.find((x) => x.name === "ok")!.id);
      expect((await store.getTree(t.id))!.status).toBe("failed");
      const reset = await store.retry(t.ids.a!);
      expect(reset.map((x) => x.name).sort()).toEqual(["a", "b", "root"]);
      expect(await status(t.ids.a!)).toBe("ready");
      expect(await status(t.ids.b!)).toBe("pending");
      expect(await status(t.ids.ok!)).toBe("completed");
      expect((await store.getTree(t.id))!.status).toBe("running");
      const [a] = await claimAll(t.id);
      expect(a!.attempts).toBe(2);
      await complete(a!.id);
      const [b] = await claimAll(t.id);
      await complete(b!.id);
      const [root] = await claimAll(t.id);
      await complete(root!.id);
      expect((await store.getTree(t.id))!.status).toBe("completed");
    });

    it("retry refuses a task skipped because of another one, pointing at the culprit", async () => {
      const t = makeTree([{ name: "a" }, { name: "b", deps: ["a"] }]);
      await store.createTree(t);
      const [a] = await claimAll(t.id);
      await failTask(a!.id);
      await expect(store.retry(t.ids.b!)).rejects.toThrow(/dependency "a" did not complete: retry that task instead/);
      expect(await status(t.ids.b!)).toBe("skipped");
    });

    it("finishes a batch in one call", async () => {
      const specs: Spec[] = Array.from({ length: 200 }, (_, i) => ({ name: `t${i}` }));
      const t = makeTree([...specs, { name: "root", deps: specs.map((s) => s.name) }]);
      await store.createTree(t);
      const claimed = await claimAll(t.id, W, 500);
      expect(claimed).toHaveLength(200);
      const accepted = await store.finish(claimed.map((c) => ({ taskId: c.id, workerId: W, kind: "completed" as const, result: c.name })));
      expect(accepted.every(Boolean)).toBe(true);
      expect(await store.treeCounts(t.id)).toEqual({ completed: 200, ready: 1 });
    });

    it("scopes reads by whole path segments", async () => {
      const mine = makeTree([{ name: "a" }], { owner: "acme/team_1" });
      const ten = makeTree([{ name: "a" }], { owner: "acme/team_10" });
      const x = makeTree([{ name: "a" }], { owner: "acme/teamX1" });
      const sub = makeTree([{ name: "a" }], { owner: "acme/team_1/bot" });
      for (const t of [mine, ten, x, sub]) await store.createTree(t);
      const seen = (await store.listTasks({ scope: "acme/team_1" })).map((t) => t.tree_id).sort();
      expect(seen).toEqual([mine.id, sub.id].sort());
      expect(await store.getTree(ten.id, "acme/team_1")).toBeUndefined();
      expect(await store.getTask(x.ids.a!, "acme/team_1")).toBeUndefined();
      expect(await store.getTask(mine.ids.a!, "acme/team_1")).toBeDefined();
      expect((await store.listTrees({ scope: "acme/team_1" })).map((t) => t.id).sort()).toEqual([mine.id, sub.id].sort());
      await expect(store.cancel(ten.id, { scope: "acme/team_1" })).rejects.toThrow(/no task or tree/);
      expect((await store.listTasks({ scope: "acme" })).length).toBe(4);
    });

    it("keeps events append-only, ordered, and readable from a seq", async () => {
      const t = makeTree([{ name: "a" }]);
      await store.createTree(t);
      const seen: GroveEvent[] = [];
      const off = store.bus.on((e) => seen.push(e));
      await store.appendEvents([{ tree_id: t.id, task_id: t.ids.a!, type: "task.log", data: { message: "one" } }, { tree_id: t.id, task_id: t.ids.a!, type: "task.log", data: { message: "two" } }]);
      off();
      expect(seen.map((e) => e.data.message)).toEqual(["one", "two"]);
      const all = await store.events({ treeId: t.id });
      const seqs = all.map((e) => e.seq);
      expect([...seqs].sort((p, q) => p - q)).toEqual(seqs);
      const after = await store.events({ treeId: t.id, afterSeq: seen[0]!.seq });
      expect(after.map((e) => e.data.message)).toEqual(["two"]);
      const forTask = await store.events({ taskId: t.ids.a! });
      expect(forTask.every((e) => e.task_id === t.ids.a)).toBe(true);
    });

    describe("approvals (DESIGN §9)", () => {
      const request = { command: "rm -rf /tmp/x", reasons: ["no_delete: rm"], risk: "high" as const, machine: "local" };
      const pause = (id: string, state: unknown = { step: 3, messages: ["hi"] }, workerId = W, req: ApprovalRequest = request) =>
        store.finish([{ taskId: id, workerId, kind: "waiting_approval", request: req, state }]);
      /** A tree whose task "a" is paused (root depends on it). */
      const paused = async (owner = "") => {
        const t = makeTree([{ name: "a" }, { name: "root", deps: ["a"] }], { owner });
        await store.createTree(t);
        const [a] = await claimAll(t.id);
        expect(await pause(a!.id)).toEqual([true]);
        return t;
      };

      it("pause: running → waiting_approval, lease released, request and state kept, tree still running", async () => {
        const t = await paused("acme/ops");
        const a = (await store.getTask(t.ids.a!))!;
        expect(a).toMatchObject({ status: "waiting_approval", lease_owner: null, lease_expires_at: null, attempts: 1, finished_at: null });
        expect(await status(t.ids.root!)).toBe("pending");
        expect((await store.getTree(t.id))!.status).toBe("running");
        const ev = (await store.events({ taskId: t.ids.a! })).find((e) => e.type === "task.waiting_approval")!;
        expect(ev.data).toEqual({ name: "a", attempt: 1, request });
        expect((await store.attempts(t.ids.a!)).map((x) => [x.attempt, x.outcome])).toEqual([[1, "waiting_approval"]]);
        const list = await store.listApprovals({ scope: "acme" });
        expect(list).toEqual([expect.objectContaining({ task_id: t.ids.a, tree_id: t.id, name: "a", executor: "noop", owner: "acme/ops", attempt: 1, request })]);
        expect(typeof list[0]!.requested_at).toBe("number");
        expect(await store.listApprovals({ scope: "acme/opsx" })).toEqual([]);
        expect(await store.listApprovals({ treeId: t.id })).toHaveLength(1);
        expect(await claimAll(t.id)).toEqual([]);
      });

      it("approve: waiting → ready; the next claim carries the decision, the request and the stored state", async () => {
        const t = await paused();
        const decided = await store.decide(t.ids.a!, "approved", { by: "alice", reason: "looks fine" });
        expect(decided).toMatchObject({ status: "ready", lease_owner: null });
        expect(await store.listApprovals()).toEqual([]);
        const types = (await store.events({ taskId: t.ids.a! })).map((e) => e.type);
        expect(types.slice(-2)).toEqual(["task.approved", "task.ready"]);
        const approved = (await store.events({ taskId: t.ids.a! })).find((e) => e.type === "task.approved")!;
        expect(approved.data).toMatchObject({ name: "a", command: request.command, by: "alice", reason: "looks fine" });
        const [again] = await claimAll(t.id, "worker-b");
        expect(again).toMatchObject({ name: "a", attempts: 2, lease_owner: "worker-b" });
        expect(again!.resume).toEqual({ decision: "approved", request, state: { step: 3, messages: ["hi"] }, by: "alice", reason: "looks fine" });
        expect(await complete(again!.id, { done: true }, "worker-b")).toEqual([true]);
        const [root] = await claimAll(t.id);
        expect(root!.resume).toBeUndefined();
        await complete(root!.id);
        expect((await store.getTree(t.id))!.status).toBe("completed");
        expect((await store.attempts(t.ids.a!)).map((x) => x.outcome)).toEqual(["waiting_approval", "completed"]);
      });

      it("reject: the claim carries 'rejected' (by and reason optional)", async () => {
        const t = await paused();
        await store.decide(t.ids.a!, "rejected");
        expect((await store.events({ taskId: t.ids.a! })).some((e) => e.type === "task.rejected")).toBe(true);
        const [again] = await claimAll(t.id);
        expect(again!.resume).toEqual({ decision: "rejected", request, state: { step: 3, messages: ["hi"] } });
      });

      it("refuses illegal decisions: a task not waiting, a second decision, a caller outside the scope", async () => {
        const t = await paused("acme/ops");
        await expect(store.decide(t.ids.root!, "approved")).rejects.toBeInstanceOf(IllegalTransitionError);
        await expect(store.decide(t.ids.a!, "approved", { scope: "acme/opsx" })).rejects.toThrow(/no task/);
        await expect(store.decide(t.ids.a!, "approved", { scope: "other" })).rejects.toThrow(/no task/);
        expect(await status(t.ids.a!)).toBe("waiting_approval");
        await store.decide(t.ids.a!, "approved", { scope: "acme" });
        await expect(store.decide(t.ids.a!, "rejected")).rejects.toThrow(/not waiting for approval \(it is ready\)/);
        await expect(store.decide(t.ids.a!, "approved")).rejects.toBeInstanceOf(IllegalTransitionError);
        const decisions = (await store.events({ taskId: t.ids.a! })).filter((e) => e.type === "task.approved" || e.type === "task.rejected");
        expect(decisions).toHaveLength(1);
      });

      it("a waiting task holds no lease: never recovered, not heartbeated, its old worker cannot finish it", async () => {
        const t = await paused();
        expect(await store.recoverExpired(Date.now() + 3_600_000)).toBe(0);
        expect(await store.heartbeat(W, [t.ids.a!], 30_000)).toEqual([]);
        expect(await store.stillHeld(W, [t.ids.a!])).toEqual([]);
        expect(await complete(t.ids.a!)).toEqual([false]);
        expect(await store.release(W, [t.ids.a!])).toBe(0);
        expect(await status(t.ids.a!)).toBe("waiting_approval");
      });

      it("cancelling the tree cancels a waiting task; deciding it afterwards is refused", async () => {
        const t = await paused();
        expect(await store.cancel(t.id)).toBe(2);
        expect(await status(t.ids.a!)).toBe("cancelled");
        expect((await store.getTree(t.id))!.status).toBe("cancelled");
        expect(await store.listApprovals()).toEqual([]);
        await expect(store.decide(t.ids.a!, "approved")).rejects.toThrow(/not waiting for approval \(it is cancelled\)/);
      });

      it("a task cancelled while running cannot pause", async () => {
        const t = makeTree([{ name: "a" }]);
        await store.createTree(t);
        const [a] = await claimAll(t.id);
        await store.cancel(a!.id);
        expect(await pause(a!.id)).toEqual([false]);
        expect(await status(a!.id)).toBe("cancelled");
      });

      it("a second pause replaces the request and waits for a new decision", async () => {
        const t = await paused();
        await store.decide(t.ids.a!, "approved", { by: "alice" });
        const [again] = await claimAll(t.id);
        const second = { command: "shutdown now", reasons: ["asks"], risk: "medium" as const };
        expect(await pause(again!.id, { step: 4 }, W, second)).toEqual([true]);
        expect((await store.listApprovals()).map((x) => [x.request.command, x.attempt])).toEqual([["shutdown now", 2]]);
        expect(await claimAll(t.id)).toEqual([]);
        await store.decide(t.ids.a!, "rejected", { reason: "no" });
        const [third] = await claimAll(t.id);
        expect(third!.resume).toEqual({ decision: "rejected", request: second, state: { step: 4 }, reason: "no" });
      });

      it("grove tasks retry starts a resumed task over without the old decision", async () => {
        const t = await paused();
        await store.decide(t.ids.a!, "approved");
        const [again] = await claimAll(t.id);
        expect(again!.resume?.decision).toBe("approved");
        await failTask(again!.id);
        await store.retry(t.ids.a!);
        const [fresh] = await claimAll(t.id);
        expect(fresh!.name).toBe("a");
        expect(fresh!.resume).toBeUndefined();
      });
    });

    it("counts tasks by status", async () => {
      const t = makeTree([{ name: "a" }, { name: "root", deps: ["a"] }]);
      await store.createTree(t);
      const counts: Partial<Record<TaskStatus, number>> = await store.treeCounts(t.id);
      expect(counts).toEqual({ ready: 1, pending: 1 });
    });
  });
}
