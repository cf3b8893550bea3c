// Approvals across processes (DESIGN §9, §10), with the real `grove` CLI on a real SQLite file:
// a paused approval survives the process that paused it — whether it exited (code 3) or was
// SIGKILLed — and the tree completes after `grove tasks approve` from another process.
import { writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grove, groveBackground, tempDir } from "../helpers/cli.js";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";

const FIXTURE = "test/fixtures/executors/approval.mjs";

function setup(tasks: unknown[], dbUrl?: string) {
  const dir = tempDir("grove-approvals-");
  const file = join(dir, "tree.json");
  writeFileSync(file, JSON.stringify({ name: "release", tasks }));
  const db = dbUrl ?? join(dir, "g.db");
  const g = (args: string[]) => grove([...args, "--db", db, "--executors", FIXTURE]);
  return { file, db, g };
}

const GATE_TREE = [
  { name: "deploy", executor: "gate", inputs: { command: "deploy --prod", note: "v2" } },
  { name: "announce", executor: "command", dependencies: ["deploy"], inputs: { command: "echo deploy was {{ tasks.deploy.result.decision }}" } },
];

const byName = (r: { tasks: { name: string }[] }) => Object.fromEntries(r.tasks.map((t) => [t.name, t])) as Record<string, any>;

describe("approvals across processes", () => {
  it("a paused approval survives a restart of the process and completes after `grove tasks approve`", async () => {
    const { file, g } = setup(GATE_TREE);
    // 1. grove run pauses and exits 3, telling the user what to run.
    const first = await g(["run", file]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(3);
    const taskId = /grove tasks approve (\S+)/.exec(first.stdout)?.[1];
    const treeId = /grove run --resume (\S+)/.exec(first.stdout)?.[1];
    expect(taskId).toBeTruthy();
    expect(treeId).toBeTruthy();
    expect(first.stdout).toMatch(/waiting +deploy for approval: deploy --prod/);
    expect(first.stdout).toMatch(/risk high: deploy --prod/);
    expect(first.stdout).toContain("require_approval: deploy");
    expect(first.stdout).toMatch(/tree release running/);

    // 2. another process lists and approves it.
    const listed = await g(["tasks", "approvals", "--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ task_id: taskId, tree_id: treeId, name: "deploy", executor: "gate", command: "deploy --prod", risk: "high", attempt: 1, approve: `grove tasks approve ${taskId}` }),
    ]);
    const text = await g(["tasks", "approvals"]);
    expect(text.stdout).toContain(`command: deploy --prod`);
    const approved = await g(["tasks", "approve", taskId!, "--reason", "change ticket 42", "--json"]);
    expect(approved.stderr).toBe("");
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toEqual({
      id: taskId, tree_id: treeId, name: "deploy", decision: "approved", by: userInfo().username, reason: "change ticket 42", status: "ready", resume: `grove run --resume ${treeId}`,
    });
    expect(JSON.parse((await g(["tasks", "approvals", "--json"])).stdout)).toEqual([]);

    // 3. a third process resumes the tree to the end; the executor saw the decision and its state.
    const resumed = await g(["run", "--resume", treeId!, "--json"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.stdout);
    expect(out.status).toBe("completed");
    const deploy = byName(out).deploy;
    expect(deploy.attempts).toBe(2);
    expect(deploy.result).toMatchObject({ decision: "approved", by: userInfo().username, reason: "change ticket 42", request: { command: "deploy --prod", risk: "high" }, state: { paused_attempt: 1, note: "v2" }, attempt: 2 });
    expect(deploy.result.state.paused_pid).not.toBe(deploy.result.resumed_pid);
    expect(byName(out).announce.result.stdout).toBe("deploy was approved\n");

    const logs = JSON.parse((await g(["tasks", "logs", taskId!, "--json"])).stdout).map((e: { type: string }) => e.type);
    expect(logs).toEqual(["task.created", "task.started", "task.waiting_approval", "task.approved", "task.ready", "task.started", "task.completed"]);
    const got = JSON.parse((await g(["tasks", "get", taskId!, "--json"])).stdout);
    expect(got.attempt_history.map((a: { outcome: string }) => a.outcome)).toEqual(["waiting_approval", "completed"]);
  });

  it("survives a SIGKILL of grove run while a task waits; approve, then --resume completes the tree", async () => {
    const { file, db, g } = setup([
      { name: "deploy", executor: "gate", inputs: { command: "deploy --prod" } },
      { name: "busy", executor: "hold", inputs: {} },
    ]);
    const run = groveBackground(["run", file, "--db", db, "--executors", FIXTURE, "--lease-ms", "1000"]);
    await run.waitFor(/waiting +deploy for approval/);
    await run.waitFor(/started +busy/);
    run.child.kill("SIGKILL");
    expect(await run.exited).toBeNull();

    const pending = JSON.parse((await g(["tasks", "approvals", "--json"])).stdout);
    expect(pending.map((p: { name: string }) => p.name)).toEqual(["deploy"]);
    const { task_id: taskId, tree_id: treeId } = pending[0];
    const approved = await g(["tasks", "approve", taskId]);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`approved deploy (${taskId})`);

    // `busy` died with its process: its lease expires and it runs again; `deploy` resumes.
    const resumed = await g(["run", "--resume", treeId, "--json"]);
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.stdout);
    expect(out.status).toBe("completed");
    expect(byName(out).deploy.result).toMatchObject({ decision: "approved", state: { paused_attempt: 1 } });
    expect(byName(out).busy).toMatchObject({ status: "completed", attempts: 2 });
  });

  it("reject: the executor resumes and sees 'rejected' with the reason", async () => {
    const { file, g } = setup(GATE_TREE);
    const first = await g(["run", file, "--json"]);
    expect(first.code).toBe(3);
    const paused = JSON.parse(first.stdout);
    expect(paused.status).toBe("running");
    const taskId = paused.approvals[0].task_id;
    const rejected = await g(["tasks", "reject", taskId, "--reason", "too risky on a Friday", "--json"]);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ decision: "rejected", reason: "too risky on a Friday" });
    const resumed = await g(["run", "--resume", paused.tree_id, "--json"]);
    expect(resumed.code).toBe(0);
    const out = byName(JSON.parse(resumed.stdout));
    expect(out.deploy.result).toMatchObject({ decision: "rejected", reason: "too risky on a Friday" });
    expect(out.announce.result.stdout).toBe("deploy was rejected\n");
  });

  it("a grove worker picks the task up after the decision", async () => {
    const { file, db, g } = setup(GATE_TREE);
    const detached = JSON.parse((await g(["run", file, "--detach", "--json"])).stdout);
    const worker = groveBackground(["worker", "--db", db, "--executors", FIXTURE, "--concurrency", "2"]);
    try {
      await worker.waitFor(/waiting +deploy for approval of: deploy --prod \(grove tasks approve \S+\)/);
      const [pending] = JSON.parse((await g(["tasks", "approvals", "--json"])).stdout);
      expect(pending.tree_id).toBe(detached.tree_id);
      await g(["tasks", "approve", pending.task_id]);
      const watched = await g(["tasks", "watch", detached.tree_id]);
      expect(watched.code).toBe(0);
      const tree = JSON.parse((await g(["tasks", "tree", detached.tree_id, "--json"])).stdout);
      expect(byName(tree).deploy.result.decision).toBe("approved");
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  });

  it("refuses illegal decisions with one line: not waiting (exit 1), twice, outside the caller's scope, unknown id", async () => {
    const { file, g } = setup(GATE_TREE);
    const first = JSON.parse((await g(["run", file, "--json", "--as", "acme/ops"])).stdout);
    const deployId = first.approvals[0].task_id;
    const announceId = byName(first).announce.id;
    const notWaiting = await g(["tasks", "approve", announceId, "--as", "acme/ops"]);
    expect(notWaiting.code).toBe(1);
    expect(notWaiting.stderr).toBe(`grove: task ${announceId} is not waiting for approval (it is pending)\n`);
    const outside = await g(["tasks", "approve", deployId, "--as", "acme/opsx"]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toBe(`grove: no task ${deployId}\n`);
    expect(JSON.parse((await g(["tasks", "approvals", "--json", "--as", "acme/opsx"])).stdout)).toEqual([]);
    expect((await g(["tasks", "reject", deployId, "--as", "acme"])).code).toBe(0);
    const twice = await g(["tasks", "approve", deployId, "--as", "acme"]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/is not waiting for approval \(it is ready\)/);
    expect((await g(["tasks", "approve", "nope"])).stderr).toBe("grove: no task nope\n");
  });
});

describe("approvals across processes on PostgreSQL", () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startTestPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it("pause in one process, approve in another, resume in a third: the executor sees the decision and its state", async () => {
    const { file, g } = setup(GATE_TREE, await server.createDatabase());
    const first = await g(["run", file, "--json"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(3);
    const paused = JSON.parse(first.stdout);
    const [pending] = JSON.parse((await g(["tasks", "approvals", "--json"])).stdout);
    expect(pending).toMatchObject({ task_id: paused.approvals[0].task_id, command: "deploy --prod" });
    expect((await g(["tasks", "approve", pending.task_id, "--reason", "pg"])).code).toBe(0);
    const resumed = await g(["run", "--resume", paused.tree_id, "--json"]);
    expect(resumed.code).toBe(0);
    const out = byName(JSON.parse(resumed.stdout));
    expect(out.deploy.result).toMatchObject({ decision: "approved", reason: "pg", state: { paused_attempt: 1, note: "v2" }, attempt: 2 });
    expect(out.deploy.result.state.paused_pid).not.toBe(out.deploy.result.resumed_pid);
    expect(out.announce.result.stdout).toBe("deploy was approved\n");
  });
});
