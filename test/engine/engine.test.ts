import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { Grove } from "../../src/client/local.js";
import { BaseTask, defineExecutor, type ExecutorContext } from "../../src/core/executor.js";
import { Runner } from "../../src/engine/runner.js";
import { backoffDelay } from "../../src/engine/backoff.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "grove-engine-"));
let seq = 0;
const dbPath = () => join(dir, `e${seq++}.db`);
const open: Grove[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

/** Records start/finish order and concurrency of `step` tasks. */
function recorder() {
  const order: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const step = defineExecutor({
    id: "step",
    input: z.object({ ms: z.number().default(0), fail: z.boolean().default(false), value: z.unknown().optional() }),
    async execute(inputs, ctx) {
      running++;
      maxRunning = Math.max(maxRunning, running);
      order.push(ctx.task.name);
      try {
        if (inputs.ms) await new Promise((r) => setTimeout(r, inputs.ms));
        if (inputs.fail) throw new Error(`${ctx.task.name} failed on purpose`);
        return { name: ctx.task.name, value: inputs.value ?? null, attempt: ctx.attempt };
      } finally {
        running--;
      }
    },
  });
  return { step, order, max: () => maxRunning };
}

async function grove(executors: NonNullable<Parameters<typeof Grove.local>[0]>["executors"] = [], extra: Partial<NonNullable<Parameters<typeof Grove.local>[0]>> = {}) {
  const g = await Grove.local({ db: dbPath(), executors, ...extra });
  open.push(g);
  return g;
}

const byName = (r: { tasks: { name: string }[] }) => Object.fromEntries(r.tasks.map((t) => [t.name, t])) as Record<string, any>;

describe("engine: ordering and concurrency (DESIGN §4)", () => {
  it("starts ready tasks by priority, 0 first, then by creation order", async () => {
    const r = recorder();
    const g = await grove([r.step]);
    const result = await g.run(
      {
        name: "prio",
        tasks: [
          { name: "root", executor: "step", children: [
            { name: "low", executor: "step", priority: 3 },
            { name: "urgent", executor: "step", priority: 0 },
            { name: "normal-a", executor: "step" },
            { name: "high", executor: "step", priority: 1 },
            { name: "normal-b", executor: "step" },
          ] },
        ],
      },
      { concurrency: 1 },
    );
    expect(result.status).toBe("completed");
    expect(r.order).toEqual(["urgent", "high", "normal-a", "normal-b", "low", "root"]);
  });

  it("never runs more tasks at once than --concurrency", async () => {
    const r = recorder();
    const g = await grove([r.step]);
    const children = Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, executor: "step", inputs: { ms: 30 } }));
    const result = await g.run({ name: "conc", tasks: [{ name: "root", executor: "step", children }] }, { concurrency: 3 });
    expect(result.status).toBe("completed");
    expect(r.max()).toBe(3);
  });

  it("runs a parent after all its children and gives it their results", async () => {
    const r = recorder();
    const g = await grove([r.step]);
    const result = await g.run({
      name: "fanin",
      tasks: [{ name: "sum", executor: "aggregate", children: [
        { name: "a", executor: "step", inputs: { value: 1, ms: 20 } },
        { name: "b", executor: "step", inputs: { value: 2 } },
      ] }],
    });
    const t = byName(result);
    expect(t.sum.status).toBe("completed");
    expect(t.sum.result.results).toMatchObject({ a: { value: 1 }, b: { value: 2 } });
    expect(Date.parse(t.sum.started_at)).toBeGreaterThanOrEqual(Date.parse(t.a.finished_at));
  });
});

describe("engine: dependencies", () => {
  it("skips dependents of a failed required dependency transitively; the tree fails", async () => {
    const r = recorder();
    const g = await grove([r.step]);
    const result = await g.run({
      name: "skip",
      tasks: [
        { name: "a", executor: "step", inputs: { fail: true } },
        { name: "b", executor: "step", dependencies: ["a"] },
        { name: "c", executor: "step", dependencies: ["b"] },
        { name: "ok", executor: "step" },
      ],
    });
    const t = byName(result);
    expect(result.status).toBe("failed");
    expect(t.a.status).toBe("failed");
    expect(t.a.error).toMatchObject({ type: "executor_error", message: "a failed on purpose" });
    expect(t.b.status).toBe("skipped");
    expect(t.b.error).toMatchObject({ type: "dependency_failed" });
    expect(t.b.error.message).toContain('"a"');
    expect(t.c.status).toBe("skipped");
    expect(t.ok.status).toBe("completed");
    expect(r.order).not.toContain("b");
  });

  it("waits for an optional dependency, then runs with its result null when it failed", async () => {
    const seen: Record<string, unknown>[] = [];
    const probe = defineExecutor({ id: "probe", input: { type: "object" }, execute: (_i, ctx) => (seen.push(ctx.dependencies as Record<string, unknown>), { ok: true }) });
    const r = recorder();
    const g = await grove([r.step, probe]);
    const result = await g.run({
      name: "optional",
      tasks: [
        { name: "flaky", executor: "step", inputs: { fail: true, ms: 50 } },
        { name: "good", executor: "step", inputs: { value: 7 } },
        { name: "after", executor: "probe", dependencies: [{ task: "flaky", required: false }, "good"] },
      ],
    });
    const t = byName(result);
    expect(t.after.status).toBe("completed");
    expect(seen[0]).toMatchObject({ flaky: { status: "failed", result: null }, good: { status: "completed", result: { value: 7 } } });
    expect((seen[0] as any).flaky.error.type).toBe("executor_error");
  });

  it("is a real DAG: a diamond runs each task once, in dependency order", async () => {
    const r = recorder();
    const g = await grove([r.step]);
    const result = await g.run({
      name: "diamond",
      tasks: [
        { name: "top", executor: "step" },
        { name: "left", executor: "step", dependencies: ["top"] },
        { name: "right", executor: "step", dependencies: ["top"] },
        { name: "bottom", executor: "step", dependencies: ["left", "right"] },
      ],
    });
    expect(result.status).toBe("completed");
    expect(r.order.filter((n) => n !== "diamond")).toHaveLength(4);
    expect(r.order[0]).toBe("top");
    expect(r.order.indexOf("bottom")).toBeGreaterThan(Math.max(r.order.indexOf("left"), r.order.indexOf("right")));
  });
});

describe("engine: templates and validation", () => {
  it("replaces an exact template by the value with its type, interpolates longer strings, reads tree inputs", async () => {
    const got: Record<string, unknown>[] = [];
    const take = defineExecutor({ id: "take", input: { type: "object" }, execute: (inputs) => (got.push(inputs), inputs) });
    const g = await grove([take]);
    const result = await g.run({
      name: "tpl",
      inputs: { day: "2026-11-20" },
      tasks: [
        { name: "src", executor: "take", inputs: { total: 42, items: [1, 2], nested: { k: "v" } } },
        { name: "use", executor: "take", inputs: { n: "{{ tasks.src.result.total }}", list: "{{ tasks.src.result.items }}", text: "total={{ tasks.src.result.total }} obj={{ tasks.src.result.nested }} on {{ tree.inputs.day }}", first: "{{ tasks.src.result.items[0] }}", status: "{{ tasks.src.status }}" } },
      ],
    });
    expect(result.status).toBe("completed");
    expect(got[1]).toEqual({ n: 42, list: [1, 2], text: 'total=42 obj={"k":"v"} on 2026-11-20', first: 1, status: "completed" });
    // The stored inputs are never overwritten; the resolved ones are on the attempt.
    const use = byName(result).use;
    expect((await g.getTask(use.id)).inputs.n).toBe("{{ tasks.src.result.total }}");
    expect((await g.store.attempts(use.id))[0]!.resolved_inputs).toMatchObject({ n: 42 });
  });

  it("a template reference adds the dependency by itself", async () => {
    const r = recorder();
    const g = await grove([r.step]);
    const result = await g.run({
      name: "implicit",
      tasks: [
        { name: "later", executor: "step", inputs: { value: "{{ tasks.first.result.value }}" } },
        { name: "first", executor: "step", inputs: { value: "x", ms: 30 } },
      ],
    });
    expect(byName(result).later.result.value).toBe("x");
  });

  it("fails with template_error when a path does not resolve", async () => {
    const r = recorder();
    const g = await grove([r.step]);
    const result = await g.run({ name: "bad-path", tasks: [{ name: "a", executor: "step", inputs: { value: 1 } }, { name: "b", executor: "step", inputs: { value: "{{ tasks.a.result.nope.deeper }}" } }] });
    const b = byName(result).b;
    expect(b.status).toBe("failed");
    expect(b.error.type).toBe("template_error");
    expect(b.error.message).toContain("inputs.value");
    expect(b.attempts).toBe(1);
  });

  it("validates resolved inputs with defaults applied; a violation fails with the field named and is not retried", async () => {
    const got: unknown[] = [];
    const typed = defineExecutor({ id: "typed", input: z.object({ count: z.number().int(), mode: z.enum(["a", "b"]).default("a") }), execute: (i) => (got.push(i), i) });
    const txt = defineExecutor({ id: "txt", input: { type: "object" }, execute: () => ({ s: "not a number" }) });
    const g = await grove([typed, txt]);
    const result = await g.run({
      name: "val",
      tasks: [
        { name: "ok", executor: "typed", inputs: { count: 2 } },
        { name: "src", executor: "txt" },
        { name: "bad", executor: "typed", retry: { max_attempts: 3, base_ms: 1 }, inputs: { count: "{{ tasks.src.result.s }}" } },
      ],
    });
    const t = byName(result);
    expect(got[0]).toEqual({ count: 2, mode: "a" });
    expect(t.bad.status).toBe("failed");
    expect(t.bad.error.type).toBe("validation_error");
    expect(t.bad.error.message).toContain("count");
    expect(t.bad.attempts).toBe(1);
  });

  it("checks the output schema", async () => {
    const liar = defineExecutor({ id: "liar", input: { type: "object" }, output: z.object({ n: z.number() }), execute: () => ({ n: "seven" }) as never });
    const g = await grove([liar]);
    const result = await g.run({ name: "out", tasks: [{ name: "a", executor: "liar" }] });
    expect(byName(result).a.error).toMatchObject({ type: "validation_error" });
    expect(byName(result).a.error.message).toContain("output: n");
  });

  it("resolves secrets at run time and never stores them", async () => {
    process.env.GROVE_SECRET_TOKEN = "s3cr3t-value";
    const echo = defineExecutor({ id: "echo", input: { type: "object" }, execute: (i, ctx) => (ctx.log(`using ${String(i.auth)}`), { header: i.auth }) });
    const g = await grove([echo]);
    const result = await g.run({ name: "sec", tasks: [{ name: "a", executor: "echo", inputs: { auth: "Bearer {{ secrets.TOKEN }}" } }] });
    const a = byName(result).a;
    expect(a.status).toBe("completed");
    const everything = JSON.stringify([result, await g.store.events({ treeId: result.tree_id }), await g.store.attempts(a.id), await g.getTask(a.id)]);
    expect(everything).not.toContain("s3cr3t-value");
    expect(a.result.header).toBe("Bearer ***");
    delete process.env.GROVE_SECRET_TOKEN;
  });
});

describe("engine: failures, retries, timeouts", () => {
  it("fails a task the seed's way: {status: 'failed', error, error_type}", async () => {
    const soft = defineExecutor({ id: "soft", input: { type: "object" }, execute: () => ({ status: "failed", error: "URL is required", error_type: "validation_error", field: "url" }) });
    const g = await grove([soft]);
    const a = byName(await g.run({ name: "soft", tasks: [{ name: "a", executor: "soft" }] })).a;
    expect(a.status).toBe("failed");
    expect(a.error).toMatchObject({ type: "validation_error", message: "URL is required", details: { error_type: "validation_error", field: "url" } });
  });

  it("retries failures with backoff and counts every attempt", async () => {
    let calls = 0;
    const flaky = defineExecutor({ id: "flaky", input: { type: "object" }, execute: (_i, ctx) => {
      calls++;
      if (ctx.attempt < 3) throw new Error(`try ${ctx.attempt}`);
      return { attempt: ctx.attempt };
    } });
    const g = await grove([flaky]);
    const started = Date.now();
    const a = byName(await g.run({ name: "retry", tasks: [{ name: "a", executor: "flaky", retry: { max_attempts: 3, backoff: "fixed", base_ms: 100 } }] })).a;
    expect(a.status).toBe("completed");
    expect(a.attempts).toBe(3);
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    const events = await g.store.events({ taskId: a.id });
    expect(events.filter((e) => e.type === "task.retrying")).toHaveLength(2);
  });

  it("gives up after max_attempts", async () => {
    const never = defineExecutor({ id: "never", input: { type: "object" }, execute: () => { throw new Error("nope"); } });
    const g = await grove([never]);
    const a = byName(await g.run({ name: "giveup", tasks: [{ name: "a", executor: "never", retry: { max_attempts: 2, backoff: "fixed", base_ms: 10 } }] })).a;
    expect(a).toMatchObject({ status: "failed", attempts: 2 });
  });

  it("a timeout aborts the attempt with error.type timeout, and retries apply to it", async () => {
    const aborts: string[] = [];
    const slow = defineExecutor({ id: "slow", input: { type: "object" }, cancelable: true, execute: (_i, ctx) => new Promise((_res, rej) => {
      ctx.signal.addEventListener("abort", () => { aborts.push(String((ctx.signal.reason as Error).message)); rej(ctx.signal.reason); });
    }) });
    const g = await grove([slow]);
    const started = Date.now();
    const a = byName(await g.run({ name: "timeout", tasks: [{ name: "a", executor: "slow", timeout_ms: 100, retry: { max_attempts: 2, backoff: "fixed", base_ms: 10 } }] })).a;
    expect(a.status).toBe("failed");
    expect(a.error.type).toBe("timeout");
    expect(a.attempts).toBe(2);
    expect(aborts).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("an executor that ignores its abort signal cannot hold the run forever", async () => {
    const stubborn = defineExecutor({ id: "stubborn", input: { type: "object" }, execute: () => new Promise(() => undefined) });
    const g = await grove([stubborn]);
    const started = Date.now();
    const a = byName(await g.run({ name: "stubborn", tasks: [{ name: "a", executor: "stubborn", timeout_ms: 100 }] })).a;
    expect(a.error.type).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("an executor missing in this process fails the task with executor_not_found", async () => {
    const store = new SqliteStore({ path: dbPath() });
    const r = recorder();
    const writer = await Grove.local({ db: store, executors: [r.step] });
    const tree = await writer.createTree({ name: "x", tasks: [{ name: "a", executor: "step" }] });
    const reader = await grove([], { db: store });
    const a = byName(await reader.runTree(tree.id)).a;
    expect(a.error.type).toBe("executor_not_found");
  });

  it("computes backoff: fixed ±10 %, exponential with full jitter and a cap", () => {
    const fixed = { max_attempts: 5, backoff: "fixed" as const, base_ms: 1000, max_ms: 60_000 };
    expect(backoffDelay(fixed, 3, () => 0)).toBe(900);
    expect(backoffDelay(fixed, 3, () => 1)).toBe(1100);
    const exp = { ...fixed, backoff: "exponential" as const, max_ms: 5000 };
    expect(backoffDelay(exp, 1, () => 1)).toBe(1000);
    expect(backoffDelay(exp, 3, () => 1)).toBe(4000);
    expect(backoffDelay(exp, 10, () => 1)).toBe(5000);
    expect(backoffDelay(exp, 3, () => 0.5)).toBe(2000);
  });
});

describe("engine: cancellation and leases", () => {
  it("cancels a running tree: the attempt is aborted within a second, the BaseTask's cancel() is called", async () => {
    const cancelled: string[] = [];
    class Sleeper extends BaseTask {
      id = "sleeper";
      cancelable = true;
      async execute(_inputs: Record<string, unknown>, ctx: ExecutorContext) {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        return { status: "cancelled" };
      }
      async cancel() {
        cancelled.push("yes");
        return { status: "cancelled" };
      }
    }
    const path = dbPath();
    const g = await grove([Sleeper], { db: path });
    const tree = await g.createTree({ name: "c", tasks: [{ name: "a", executor: "sleeper" }, { name: "b", executor: "sleeper" }] });
    const running = g.runTree(tree.id);
    await new Promise((r) => setTimeout(r, 200));
    // Another connection to the same file, as another process would do.
    const other = new SqliteStore({ path });
    const t0 = Date.now();
    await other.cancel(tree.id);
    const result = await running;
    expect(Date.now() - t0).toBeLessThan(1000);
    await other.close();
    expect(result.status).toBe("cancelled");
    expect(result.tasks.every((t) => t.status === "cancelled")).toBe(true);
    expect(cancelled).toEqual(["yes", "yes"]);
  });

  it("recovers a task whose worker died: it runs again once the lease expired", async () => {
    const r = recorder();
    const path = dbPath();
    const g = await grove([r.step], { db: path });
    const tree = await g.createTree({ name: "lease", tasks: [{ name: "a", executor: "step", inputs: { value: 1 } }] });
    // A worker claims the task and dies without heartbeating.
    const dead = new SqliteStore({ path });
    const [claimed] = await dead.claim({ workerId: "dead-worker", limit: 1, leaseMs: 300 });
    expect(claimed!.name).toBe("a");
    await dead.close();
    const runner = new Runner({ store: g.store, registry: g.registry, treeId: tree.id, pollMs: 50 });
    const t0 = Date.now();
    await runner.run();
    const a = byName(await g.treeResult(tree.id)).a;
    expect(a.status).toBe("completed");
    expect(a.attempts).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    const attempts = await g.store.attempts(a.id);
    expect(attempts.map((x) => x.outcome)).toEqual(["lease_expired", "completed"]);
  });

  it("a busy worker recovers a dead worker's expired lease without waiting to be idle", async () => {
    const r = recorder();
    const path = dbPath();
    const g = await grove([r.step], { db: path });
    const tree = await g.createTree({ name: "busy", tasks: [{ name: "orphan", executor: "step", priority: 0 }, { name: "long", executor: "step", priority: 1, inputs: { ms: 1500 } }] });
    const dead = new SqliteStore({ path });
    await dead.claim({ workerId: "dead-worker", limit: 1, leaseMs: 200 });
    await dead.close();
    const runner = new Runner({ store: g.store, registry: g.registry, treeId: tree.id, concurrency: 1, leaseMs: 600 });
    await runner.run();
    const t = byName(await g.treeResult(tree.id));
    expect(t.orphan.status).toBe("completed");
    const expiredAt = (await g.store.attempts(t.orphan.id))[0]!;
    expect(expiredAt.outcome).toBe("lease_expired");
    expect(expiredAt.finished_at!).toBeLessThan(Date.parse(t.long.finished_at));
  });

  it("heartbeats keep a long task's lease alive", async () => {
    const r = recorder();
    const g = await grove([r.step]);
    const tree = await g.createTree({ name: "hb", tasks: [{ name: "a", executor: "step", inputs: { ms: 700 } }] });
    const runner = new Runner({ store: g.store, registry: g.registry, treeId: tree.id, leaseMs: 300 });
    await runner.run();
    const a = byName(await g.treeResult(tree.id)).a;
    expect(a).toMatchObject({ status: "completed", attempts: 1 });
  });
});

describe("engine: live logs", () => {
  it("a running attempt's log events are stored while it runs, not only when it ends", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const chatty = defineExecutor({
      id: "chatty",
      input: { type: "object" },
      async execute(_i, ctx) {
        ctx.log("step 1 done");
        await gate;
        return "ok";
      },
    });
    const grove = await Grove.local({ db: dbPath(), executors: [chatty] });
    open.push(grove);
    const tree = await grove.createTree({ name: "live", tasks: [{ name: "talk", executor: "chatty", inputs: {} }] });
    const done = grove.runTree(tree.id);
    // Another reader of the store (a watcher, an SSE stream) sees the line before the task ends.
    const deadline = Date.now() + 10_000;
    let seen = false;
    while (!seen && Date.now() < deadline) {
      const events = await grove.store.events({ treeId: tree.id });
      seen = events.some((e) => e.type === "task.log" && (e.data as { message?: string }).message === "step 1 done");
      if (!seen) await new Promise((r) => setTimeout(r, 50));
    }
    const statusWhileSeen = (await grove.listTasks({ treeId: tree.id })).find((t) => t.name === "talk")!.status;
    release();
    expect(seen).toBe(true);
    expect(statusWhileSeen).toBe("running");
    expect((await done).status).toBe("completed");
  });
});
