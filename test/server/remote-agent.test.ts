// Issue 7, must show 4: the seed 000 examples through `Grove.remote` against a real `grove serve`
// (fastify on 127.0.0.1 over a SQLite file, real API keys), with the fake OpenAI-compatible model
// server and real commands on the server's machine; typed results via zod. Plus the approval
// round trip over the API (agent.run → waiting_approval → tasks.approve / tasks.reject → resumed),
// agent.run's scope rules for machines, and an AbortSignal cancelling a remote run.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { Grove } from "../../src/client/local.js";
import { RemoteError, type RemoteGrove } from "../../src/client/remote.js";
import type { RemoteAgentEvent } from "../../src/client/remote-agent.js";
import { RPC } from "../../src/server/errors.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { groupAlive } from "../helpers/cli.js";
import { allResults, answer, lastResult, run, SERVICE, steps, workspace } from "../agent/helpers.js";
import { ok, rpc, startServer, type TestServer } from "./helpers.js";

let s: TestServer;
let fake: FakeOpenAI;
let grove: RemoteGrove;
let key: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  fake = await startFakeOpenAI([]);
  // The server resolves the model from its own environment (GROVE_MODEL and the provider's URL).
  for (const [k, v] of Object.entries({ GROVE_MODEL: "openai-compatible:fake", GROVE_OPENAI_COMPATIBLE_BASE_URL: fake.url })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  s = await startServer();
  key = await s.key("acme/ops");
  grove = Grove.remote({ url: s.url, apiKey: key });
}, 60_000);

afterAll(async () => {
  await s?.close();
  await fake?.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const TaskResult = z.object({ success: z.boolean(), actions_taken: z.array(z.string()), output: z.string(), error: z.string().nullable() });

describe("seed 000 through Grove.remote", () => {
  it("basic task: restarts a service and verifies it (typed output)", async () => {
    const dir = workspace({ "svc.sh": SERVICE, state: "running\n" });
    fake.setScript(
      steps(run("sh svc.sh restart"), run("sh svc.sh status"), (req) => {
        const status = lastResult(req);
        return answer({ success: status.exit_code === 0, actions_taken: ["sh svc.sh restart", "sh svc.sh status"], output: status.stdout.trim(), error: status.exit_code === 0 ? null : status.stdout });
      }),
    );
    const result = await grove.agent.run({ prompt: "Restart the nginx service and verify it's running", outputSchema: TaskResult, cwd: dir });
    expect(result.status).toBe("completed");
    // Typed: result.output is z.infer<typeof TaskResult> | null.
    const out: z.infer<typeof TaskResult> = result.output!;
    expect(out).toEqual({ success: true, actions_taken: ["sh svc.sh restart", "sh svc.sh status"], output: "nginx is running", error: null });
    expect(result.commands.map((c) => [c.command, c.exit_code])).toEqual([["sh svc.sh restart", 0], ["sh svc.sh status", 0]]);
    expect(result.steps).toBe(3);
    expect(result.model).toBe("openai-compatible:fake");
    expect(readFileSync(join(dir, "restarts"), "utf8").trim()).toBe("1");
    // It ran as a task of the caller's scope, readable like any other.
    const task = await grove.getTask(result.task_id);
    expect(task).toMatchObject({ executor: "agent", owner: "acme/ops", status: "completed", tree_id: result.tree_id });
  });

  it("dry run: plans without changing anything, then the approved plan is executed", async () => {
    const ActionPlan = z.object({ planned_commands: z.array(z.string()), affected_services: z.array(z.string()), estimated_downtime: z.string(), risk_level: z.string() });
    const dir = workspace({ "svc.sh": SERVICE, state: "running\n", VERSION: "2.9.0\n" });
    fake.setScript(
      steps(run("cat VERSION"), run("echo 3.0.0 > VERSION"), run("touch deployed.flag"), (req) => {
        const planned = allResults(req).filter((r) => r.dry_run === true);
        return answer({ planned_commands: ["echo 3.0.0 > VERSION", "touch deployed.flag"].slice(0, planned.length), affected_services: ["nginx"], estimated_downtime: "0s", risk_level: "medium" });
      }),
    );
    const plan = await grove.agent.run({ prompt: "Plan a zero-downtime deployment of v3.0", outputSchema: ActionPlan, restrictions: { dry_run: true }, cwd: dir });
    expect(plan.status).toBe("completed");
    expect(plan.output!.planned_commands).toEqual(["echo 3.0.0 > VERSION", "touch deployed.flag"]);
    expect(plan.planned_actions.map((a) => a.command)).toEqual(["echo 3.0.0 > VERSION", "touch deployed.flag"]);
    expect(plan.commands.map((c) => c.command)).toEqual(["cat VERSION"]);
    expect(readFileSync(join(dir, "VERSION"), "utf8")).toBe("2.9.0\n");
    expect(existsSync(join(dir, "deployed.flag"))).toBe(false);

    fake.setScript((req) => {
      const todo = JSON.parse(/PLAN: (.*)/.exec(req.messages[1].content)![1]!) as string[];
      const done = req.toolResults.length;
      return done < todo.length ? run(todo[done]!) : answer({ success: true, summary: `ran ${done} commands` });
    });
    const executed = await grove.agent.run({ prompt: `Execute the deployment plan.\nPLAN: ${JSON.stringify(plan.output!.planned_commands)}`, cwd: dir });
    expect(executed.output).toEqual({ success: true, summary: "ran 2 commands" });
    expect(readFileSync(join(dir, "VERSION"), "utf8")).toBe("3.0.0\n");
    expect(existsSync(join(dir, "deployed.flag"))).toBe(true);
  });

  it("context reaches the model, and a prompt with {{ … }} is passed as written", async () => {
    const FixResult = z.object({ service: z.string(), new_memory_limit: z.string(), reasoning: z.string() });
    const dir = workspace({});
    const ctxOf = (req: { messages: any[] }) => JSON.parse(/Context:\n([\s\S]*)$/.exec(req.messages[1].content)![1]!);
    fake.setScript(
      steps((req) => run(`echo "memory_limit=8GB" > ${ctxOf(req).service}.conf`), (req) => {
        const ctx = ctxOf(req);
        return answer({ service: ctx.service, new_memory_limit: "8GB", reasoning: `usage ${ctx.current_usage} of ${ctx.memory_limit} after ${ctx.recent_deployments[0]}` });
      }),
    );
    const context = { service: "api-server", memory_limit: "4GB", current_usage: "3.8GB", recent_deployments: ["v2.0.5 (2 hours ago)"], environment: "production" };
    const before = fake.requests.length;
    const result = await grove.agent.run({ prompt: "Fix the out of memory issue (not {{ tasks.x.result }})", outputSchema: FixResult, context, cwd: dir });
    expect(result.output).toEqual({ service: "api-server", new_memory_limit: "8GB", reasoning: "usage 3.8GB of 4GB after v2.0.5 (2 hours ago)" });
    expect(readFileSync(join(dir, "api-server.conf"), "utf8")).toBe("memory_limit=8GB\n");
    const first = fake.requests[before]!.messages[1].content as string;
    expect(first).toContain('"environment": "production"');
    expect(first).toContain("Fix the out of memory issue (not {{ tasks.x.result }})");
  });

  it("restrictions: streamed over SSE, what they deny never runs", async () => {
    const CleanupResult = z.object({ removed: z.array(z.string()), refused: z.array(z.string()) });
    const dir = workspace({ "old.log": "x\n", "keep.txt": "y\n" });
    const outside = workspace({ "precious.txt": "z\n" });
    const attempts = ["rm old.log", `rm ${join(outside, "precious.txt")}`, `sudo touch ${join(dir, "root-was-here")}`, "rm -rf /", "shutdown -h now", `touch ${join(outside, "side-effect")}`];
    fake.setScript((req) => {
      const i = req.toolResults.length;
      if (i < attempts.length) return run(attempts[i]!);
      const results = allResults(req);
      return answer({ removed: attempts.filter((_, k) => results[k].exit_code === 0), refused: attempts.filter((_, k) => results[k].denied === true) });
    });
    const events: RemoteAgentEvent[] = [];
    for await (const e of grove.agent.runStream({
      prompt: "Clean up old files",
      outputSchema: CleanupResult,
      restrictions: { no_delete: false, no_sudo: true, dry_run: false, allowed_dirs: [dir], forbidden_commands: ["rm -rf /", "shutdown"] },
      cwd: dir,
    }))
      events.push(e);
    const last = events.at(-1)!;
    expect(last.type).toBe("result");
    if (last.type !== "result") throw new Error("unreachable");
    const out = last.output as z.infer<typeof CleanupResult>;
    expect(out.removed).toEqual(["rm old.log"]);
    expect(out.refused).toEqual(attempts.slice(1));
    expect(existsSync(join(dir, "old.log"))).toBe(false);
    expect(existsSync(join(outside, "precious.txt"))).toBe(true);
    expect(existsSync(join(dir, "root-was-here"))).toBe(false);
    expect(existsSync(join(outside, "side-effect"))).toBe(false);
    // The stream carried the agent's events, in order, each naming the task.
    const calls = events.filter((e) => e.type === "tool_call").map((e) => (e as Extract<RemoteAgentEvent, { type: "tool_call" }>).args);
    expect(calls.slice(0, attempts.length)).toEqual(attempts.map((command) => ({ command })));
    const denied = events.filter((e): e is Extract<RemoteAgentEvent, { type: "tool_result" }> => e.type === "tool_result" && e.status === "denied");
    expect(denied.map((d) => d.result.split(":")[1]!.trim())).toEqual(["allowed_dirs", "no_sudo", "forbidden_commands", "forbidden_commands", "allowed_dirs"]);
    expect(new Set(events.map((e) => e.task_id)).size).toBe(1);
  });

  it("timeout: the run fails with type timeout and the command's process group is killed", async () => {
    const dir = workspace({});
    fake.setScript(steps(run("echo $$ > pgid; sleep 60 & sleep 60; echo never")));
    const result = await grove.agent.run({ prompt: "Run performance tests", cwd: dir, timeout: 1500 });
    expect(result.status).toBe("failed");
    expect(result.error!.type).toBe("timeout");
    expect(result.output).toBeNull();
    const pgid = Number(readFileSync(join(dir, "pgid"), "utf8"));
    expect(pgid).toBeGreaterThan(1);
    expect(groupAlive(pgid)).toBe(false);
    expect((await grove.getTask(result.task_id)).status).toBe("failed");
  });

  it("structured output: an answer not matching the zod schema is re-asked, the corrected one is typed", async () => {
    const Health = z.object({ service: z.string(), healthy: z.boolean(), checks: z.number().int() });
    fake.setScript(steps(answer({ service: "nginx", healthy: "yes" }), answer({ service: "nginx", healthy: true, checks: 2 })));
    const result = await grove.agent.run({ prompt: "Is nginx healthy?", outputSchema: Health, maxRetries: 1 });
    expect(result.status).toBe("completed");
    const out: { service: string; healthy: boolean; checks: number } = result.output!;
    expect(out).toEqual({ service: "nginx", healthy: true, checks: 2 });
    expect(result.steps).toBe(2);
  });
});

describe("approvals over the API", () => {
  const touchThenAnswer = () =>
    steps(run("touch approved.flag"), (req) => {
      const r = lastResult(req);
      return answer({ success: r.exit_code === 0, summary: r.exit_code === 0 ? "touched" : `refused: ${JSON.stringify(r)}` });
    });

  it("agent.run pauses for approval; listApprovals shows it; approve resumes it to its end", async () => {
    const dir = workspace({});
    fake.setScript(touchThenAnswer());
    const paused = await grove.agent.run({ prompt: "Mark the release", restrictions: { require_approval: ["touch"] }, cwd: dir });
    expect(paused.status).toBe("waiting_approval");
    expect(paused.approval).toMatchObject({ command: "touch approved.flag" });
    expect(existsSync(join(dir, "approved.flag"))).toBe(false);
    const waiting = await grove.listApprovals();
    expect(waiting.map((a) => [a.task_id, a.command])).toEqual([[paused.task_id, "touch approved.flag"]]);
    // Another tenant neither sees nor decides it.
    const other = Grove.remote({ url: s.url, apiKey: await s.key("acme/dev") });
    expect(await other.listApprovals()).toEqual([]);
    const refused = await other.approve(paused.task_id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RemoteError);
    expect((refused as RemoteError).code).toBe(RPC.NOT_FOUND);

    const done = await grove.agent.resume(paused.task_id, { approved: true, reason: "release day" });
    expect(done.status).toBe("completed");
    expect(done.output).toEqual({ success: true, summary: "touched" });
    expect(done.commands.map((c) => [c.command, c.approved])).toEqual([["touch approved.flag", true]]);
    expect(existsSync(join(dir, "approved.flag"))).toBe(true);
    expect(await grove.listApprovals()).toEqual([]);
  });

  it("a rejected command never runs; onApproval decides inline; raw tasks.reject with wait", async () => {
    const dir = workspace({});
    fake.setScript(touchThenAnswer());
    const asked: string[] = [];
    const inline = await grove.agent.run({
      prompt: "Mark the release",
      restrictions: { require_approval: ["touch"] },
      cwd: dir,
      onApproval: (req) => {
        asked.push(req.command);
        return false;
      },
    });
    expect(asked).toEqual(["touch approved.flag"]);
    expect(inline.status).toBe("completed");
    expect(inline.output!.success).toBe(false);
    expect(existsSync(join(dir, "approved.flag"))).toBe(false);

    // The same over plain JSON-RPC: agent.run answers waiting_approval, tasks.reject with wait answers at the end.
    fake.setScript(touchThenAnswer());
    const paused = await ok(s.url, key, "agent.run", { prompt: "Mark the release", restrictions: { require_approval: ["touch"] }, cwd: dir });
    expect(paused).toMatchObject({ status: "waiting_approval", approval: { command: "touch approved.flag" } });
    const decided = await ok(s.url, key, "tasks.reject", { id: paused.task_id, reason: "not today", wait: true });
    expect(decided).toMatchObject({ decision: "rejected", reason: "not today", status: "completed" });
    const result = await grove.agent.result(paused.task_id);
    expect(result.status).toBe("completed");
    expect(result.output).toMatchObject({ success: false });
    expect(existsSync(join(dir, "approved.flag"))).toBe(false);
  });
});

describe("agent.run: scope, validation and cancellation", () => {
  it("a machine name resolves in the caller's scope only", async () => {
    await s.server.services.machines!.add("acme/other", { name: "their-box", host: "127.0.0.1", port: 1, username: "nobody" });
    const r = await rpc(s.url, key, "agent.run", { prompt: "uptime", machine: "their-box" });
    expect(r.body.error.code).toBe(RPC.NOT_FOUND);
    const e = await grove.agent.run({ prompt: "uptime", machine: "their-box" }).catch((err: unknown) => err);
    expect((e as RemoteError).code).toBe(RPC.NOT_FOUND);
    expect((await grove.machines.list()).map((m) => m.name)).toEqual(["local"]);
    expect(await grove.listTasks({ executor: "agent", status: "ready" })).toEqual([]);
  });

  it("invalid params and an invalid output schema are refused before anything runs, naming the field", async () => {
    const before = (await grove.listTasks({ executor: "agent", limit: 1000 })).length;
    const bad = await rpc(s.url, key, "agent.run", { prompt: "x", approval: "sometimes" });
    expect(bad.body.error).toMatchObject({ code: RPC.INVALID_PARAMS, data: { field: "approval" } });
    const schema = await rpc(s.url, key, "agent.run", { prompt: "x", output_schema: { type: "object", properties: { a: { type: "no-such-type" } } } });
    expect(schema.body.error).toMatchObject({ code: RPC.VALIDATION, data: { field: "output_schema" } });
    expect((await grove.listTasks({ executor: "agent", limit: 1000 })).length).toBe(before);
  });

  it("aborting a streamed run cancels its task on the server, killing the running command", async () => {
    const dir = workspace({});
    fake.setScript(steps(run("echo $$ > pgid; exec sleep 60")));
    const ac = new AbortController();
    const seen: RemoteAgentEvent[] = [];
    const streamed = (async () => {
      for await (const e of grove.agent.runStream({ prompt: "wait forever", cwd: dir, signal: ac.signal })) seen.push(e);
    })().catch((x: unknown) => x);
    // The command runs on the server once its pgid file exists.
    while (!existsSync(join(dir, "pgid")) || readFileSync(join(dir, "pgid"), "utf8").trim() === "") await new Promise((r) => setTimeout(r, 20));
    const pgid = Number(readFileSync(join(dir, "pgid"), "utf8"));
    ac.abort();
    const err = await streamed;
    expect((err as Error).name).toBe("AbortError");
    const [task] = await grove.listTasks({ executor: "agent", limit: 1 });
    let status = task!.status;
    while (status !== "cancelled") {
      expect(["running", "ready"]).toContain(status);
      await new Promise((r) => setTimeout(r, 50));
      status = (await grove.getTask(task!.id)).status;
    }
    while (groupAlive(pgid)) await new Promise((r) => setTimeout(r, 50));
    expect(groupAlive(pgid)).toBe(false);
  });
});
