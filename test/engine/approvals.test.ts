// Approvals in the engine (DESIGN §9): an executor that throws ApprovalRequired pauses its task
// (not a failure, not a retry); the run stops while only humans can move the tree on; after a
// decision the task is claimed again and the executor gets ctx.resume. In-process, through the
// SDK (Grove.local) on a real SQLite file; the cross-process story is test/cli/approvals.test.ts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { Grove, type LocalOptions } from "../../src/client/local.js";
import { ApprovalRequired } from "../../src/core/errors.js";
import { defineExecutor, type ApprovalResume, type Executor } from "../../src/core/executor.js";

const dir = mkdtempSync(join(tmpdir(), "grove-approvals-"));
let seq = 0;
const open: Grove[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

/** `ask` pauses on its first run and records every ctx.resume it is given. */
function asker() {
  const seen: (ApprovalResume | undefined)[] = [];
  const ask = defineExecutor({
    id: "ask",
    input: z.object({ command: z.string(), then_fail: z.boolean().default(false) }),
    async execute(inputs, ctx) {
      seen.push(ctx.resume);
      if (!ctx.resume) throw new ApprovalRequired({ command: inputs.command, reasons: ["policy: ask"], risk: "medium" }, { conversation: ["user: go", "model: " + inputs.command] });
      if (inputs.then_fail) throw new Error("failed after the decision");
      return { decision: ctx.resume.decision, state: ctx.resume.state };
    },
  });
  return { ask, seen };
}

async function local(executors: Executor[], extra: Partial<LocalOptions> = {}) {
  const g = await Grove.local({ db: join(dir, `a${seq++}.db`), executors, ...extra });
  open.push(g);
  return g;
}

const tree = (inputs: Record<string, unknown>, retry?: Record<string, unknown>) => ({
  name: "approve-me",
  tasks: [
    { name: "ask", executor: "ask", inputs, ...(retry ? { retry } : {}) },
    { name: "after", executor: "command", dependencies: ["ask"], inputs: { command: "echo {{ tasks.ask.result.decision }}" } },
  ],
});

describe("approvals in the engine", () => {
  it("a pause is neither a failure nor a retry: runTree returns the tree running, with the approval listed", async () => {
    const { ask, seen } = asker();
    const grove = await local([ask]);
    const r = await grove.run(tree({ command: "deploy prod" }, { max_attempts: 3, backoff: "fixed", base_ms: 1 }));
    expect(r.status).toBe("running");
    const byName = Object.fromEntries(r.tasks.map((t) => [t.name, t]));
    expect(byName.ask).toMatchObject({ status: "waiting_approval", attempts: 1, error: null });
    expect(byName.after!.status).toBe("pending");
    expect(r.approvals).toEqual([
      expect.objectContaining({ name: "ask", command: "deploy prod", reasons: ["policy: ask"], risk: "medium", approve: `grove tasks approve ${byName.ask!.id}`, reject: `grove tasks reject ${byName.ask!.id}` }),
    ]);
    expect(seen).toEqual([undefined]);
    const types = (await grove.store.events({ taskId: byName.ask!.id })).map((e) => e.type);
    expect(types).not.toContain("task.failed");
    expect(types).not.toContain("task.retrying");
    // Running it again without a decision returns at once: still waiting, the executor not called.
    const again = await grove.runTree(r.tree_id);
    expect(again.status).toBe("running");
    expect(seen).toHaveLength(1);
  });

  it("after approve, the task is claimed again and the executor gets the decision and its stored state", async () => {
    const { ask, seen } = asker();
    const grove = await local([ask]);
    const r = await grove.run(tree({ command: "deploy prod" }));
    const id = r.approvals![0]!.task_id;
    const task = await grove.approve(id, { reason: "ship it", by: "alice" });
    expect(task.status).toBe("ready");
    expect(await grove.listApprovals()).toEqual([]);
    const done = await grove.runTree(r.tree_id);
    expect(done.status).toBe("completed");
    expect(done.approvals).toBeUndefined();
    expect(seen[1]).toEqual({
      decision: "approved",
      by: "alice",
      reason: "ship it",
      request: { command: "deploy prod", reasons: ["policy: ask"], risk: "medium" },
      state: { conversation: ["user: go", "model: deploy prod"] },
    });
    const byName = Object.fromEntries(done.tasks.map((t) => [t.name, t]));
    expect(byName.ask).toMatchObject({ status: "completed", attempts: 2, result: { decision: "approved" } });
    expect((byName.after!.result as { stdout: string }).stdout).toBe("approved\n");
  });

  it("after reject, the executor is told 'rejected' and decides what that means", async () => {
    const { ask, seen } = asker();
    const grove = await local([ask], { scope: "acme/ops" });
    const r = await grove.run(tree({ command: "rm -rf /srv/data" }));
    await grove.reject(r.approvals![0]!.task_id, { reason: "not today" });
    const done = await grove.runTree(r.tree_id);
    expect(done.status).toBe("completed");
    expect(seen[1]).toMatchObject({ decision: "rejected", reason: "not today", by: "acme/ops" });
  });

  it("deciding is scope-checked and happens once", async () => {
    const { ask } = asker();
    const grove = await local([ask], { scope: "acme/ops" });
    const r = await grove.run(tree({ command: "x" }));
    const id = r.approvals![0]!.task_id;
    const outsider = await local([ask], { db: grove.store, scope: "acme/opsx" });
    await expect(outsider.approve(id)).rejects.toThrow(/no task/);
    expect(await outsider.listApprovals()).toEqual([]);
    await grove.approve(id);
    await expect(grove.reject(id)).rejects.toThrow(/not waiting for approval/);
  });

  it("secrets never reach the stored request, its event or the state", async () => {
    process.env.GROVE_SECRET_DEPLOY_TOKEN = "s3cr3t-value";
    try {
      const { ask, seen } = asker();
      const grove = await local([ask]);
      const r = await grove.run(tree({ command: "deploy --token {{ secrets.DEPLOY_TOKEN }}" }));
      const pending = await grove.listApprovals();
      expect(pending[0]!.request.command).toBe("deploy --token ***");
      const events = JSON.stringify(await grove.store.events({ treeId: r.tree_id }));
      expect(events).not.toContain("s3cr3t-value");
      expect(events).toContain("deploy --token ***");
      await grove.approve(pending[0]!.task_id);
      await grove.runTree(r.tree_id);
      expect(JSON.stringify(seen[1])).not.toContain("s3cr3t-value");
    } finally {
      delete process.env.GROVE_SECRET_DEPLOY_TOKEN;
    }
  });

  it("a failure after the decision follows the retry policy and resumes with the same decision", async () => {
    const { ask, seen } = asker();
    const grove = await local([ask]);
    const r = await grove.run(tree({ command: "x", then_fail: true }, { max_attempts: 3, backoff: "fixed", base_ms: 1, max_ms: 1 }));
    await grove.approve(r.approvals![0]!.task_id);
    const done = await grove.runTree(r.tree_id);
    expect(done.status).toBe("failed");
    expect(seen.map((s) => s?.decision ?? null)).toEqual([null, "approved", "approved"]);
  });

  it("cancelling the tree while a task waits ends it: cancelled, nothing left to decide", async () => {
    const { ask } = asker();
    const grove = await local([ask]);
    const r = await grove.run(tree({ command: "x" }));
    await grove.cancel(r.tree_id);
    const done = await grove.treeResult(r.tree_id);
    expect(done.status).toBe("cancelled");
    expect(await grove.listApprovals()).toEqual([]);
  });
});
