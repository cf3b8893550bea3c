// Approvals (DESIGN §9): a run pauses on a command needing approval with its whole state as JSON,
// and continues from it — approved runs the command, rejected tells the model. Also the executor
// form (ApprovalRequired / ctx.resume) and a tree with an agent task run by the engine.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { resumeAgent, runAgent } from "../../src/agent/run.js";
import { makeAgentExecutor } from "../../src/agent/executor.js";
import type { AgentState } from "../../src/agent/types.js";
import { Grove } from "../../src/client/local.js";
import { ApprovalRequired, TaskFailure } from "../../src/core/errors.js";
import { DEFAULT_SETTINGS, type ExecutorContext } from "../../src/core/executor.js";
import { answer, fakeModel, lastResult, run, steps, workspace } from "./helpers.js";

const summary = (req: { toolResults: { content: string }[] }) => answer({ success: true, summary: req.toolResults.map((r) => JSON.parse(r.content)).map((r) => (r.rejected ? "rejected" : `exit ${r.exit_code}`)).join(",") });

describe("approval in the SDK form", () => {
  it("on_risk pauses on a writing command with a JSON state; approving resumes and runs it", async () => {
    const dir = workspace({});
    const { model, env, fake } = await fakeModel(steps(run("ls"), run("touch made"), summary));
    const paused = await runAgent({ prompt: "make a file", model, env, cwd: dir, approval: "on_risk" });
    expect(paused.status).toBe("waiting_approval");
    expect(paused.approval).toMatchObject({ command: "touch made", risk: "medium", machine: "local" });
    expect(paused.approval!.reasons[0]).toBe("approval: on_risk");
    expect(existsSync(join(dir, "made"))).toBe(false);
    expect(paused.commands.map((c) => c.command)).toEqual(["ls"]); // read-only: no approval
    // The state survives a trip through JSON (it is what the store keeps).
    const state = JSON.parse(JSON.stringify(paused.state)) as AgentState;
    expect(fake.completions()).toHaveLength(2);

    const resumed = await resumeAgent(state, true, { env });
    expect(resumed.status).toBe("completed");
    expect(resumed.output).toEqual({ success: true, summary: "exit 0,exit 0" });
    expect(existsSync(join(dir, "made"))).toBe(true);
    expect(resumed.commands.map((c) => [c.command, c.approved ?? false])).toEqual([["ls", false], ["touch made", true]]);
    expect(resumed.steps).toBe(3);
    // The model got the whole conversation back, not a fresh start.
    expect(fake.completions()[2]!.messages.filter((m: any) => m.role === "assistant")).toHaveLength(2);
  });

  it("rejecting tells the model, and the command never runs", async () => {
    const dir = workspace({});
    const { model, env, fake } = await fakeModel(steps(run("rm -f important"), summary));
    const paused = await runAgent({ prompt: "x", model, env, cwd: dir, approval: "on_risk" });
    expect(paused.approval!.risk).toBe("high");
    const resumed = await resumeAgent(paused.state!, { approved: false, reason: "not during business hours" }, { env });
    expect(resumed.output).toEqual({ success: true, summary: "rejected" });
    expect(resumed.commands).toEqual([]);
    expect(fake.completions()[1]!.toolResults[0]!.content).toContain("not during business hours");
  });

  it('"always" asks even for read-only commands; require_approval asks even with "never"', async () => {
    const { model, env } = await fakeModel(steps(run("ls"), summary));
    const always = await runAgent({ prompt: "x", model, env, approval: "always" });
    expect(always.approval!.command).toBe("ls");
    const { model: m2, env: e2 } = await fakeModel(steps(run("git status"), summary));
    const asked = await runAgent({ prompt: "x", model: m2, env: e2, approval: "never", restrictions: { require_approval: ["git"] } });
    expect(asked.status).toBe("waiting_approval");
    expect(asked.approval!.reasons[0]).toMatch(/^require_approval: "git" matches "git status"/);
  });

  it("onApproval decides inline", async () => {
    const dir = workspace({});
    const { model, env } = await fakeModel(steps(run("touch a"), run("touch b"), summary));
    const asked: string[] = [];
    const result = await runAgent({
      prompt: "x",
      model,
      env,
      cwd: dir,
      approval: "always",
      onApproval: (req) => {
        asked.push(req.command);
        return req.command === "touch a";
      },
    });
    expect(asked).toEqual(["touch a", "touch b"]);
    expect(result.output).toEqual({ success: true, summary: "exit 0,rejected" });
    expect(existsSync(join(dir, "a"))).toBe(true);
    expect(existsSync(join(dir, "b"))).toBe(false);
  });

  it("a paused step with several tool calls resumes at the awaited one and runs the rest", async () => {
    const dir = workspace({});
    const { model, env } = await fakeModel(
      steps({ tool_calls: [{ name: "run_command", arguments: { command: "echo one" } }, { name: "run_command", arguments: { command: "touch two" } }, { name: "run_command", arguments: { command: "echo three" } }] }, summary),
    );
    const paused = await runAgent({ prompt: "x", model, env, cwd: dir, approval: "on_risk" });
    expect(paused.approval!.command).toBe("touch two");
    const resumed = await resumeAgent(paused.state!, true, { env });
    expect(resumed.output).toEqual({ success: true, summary: "exit 0,exit 0,exit 0" });
    expect(resumed.commands.map((c) => c.command)).toEqual(["echo one", "touch two", "echo three"]);
  });
});

function context(overrides: Partial<ExecutorContext> = {}): ExecutorContext & { logs: { message: string; data?: Record<string, unknown> }[] } {
  const logs: { message: string; data?: Record<string, unknown> }[] = [];
  return {
    signal: new AbortController().signal,
    log: (message, data) => logs.push({ message, data }),
    progress: () => undefined,
    dependencies: {},
    attempt: 1,
    idempotencyKey: "k",
    task: { id: "t1", name: "agent", tree_id: "tr1", owner: "", executor: "agent" },
    tree: { id: "tr1", name: "tree", inputs: {} },
    machine: "local",
    settings: DEFAULT_SETTINGS,
    logs,
    ...overrides,
  };
}

describe("the agent executor", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("throws ApprovalRequired with JSON state, then continues from ctx.resume", async () => {
    const dir = workspace({});
    const { fake } = await fakeModel(steps(run("touch approved-file"), (req) => answer({ done: lastResult(req).exit_code === 0 })));
    process.env.GROVE_OPENAI_COMPATIBLE_BASE_URL = fake.url;
    const executor = makeAgentExecutor();
    const inputs = { prompt: "create the file", output_schema: { type: "object", properties: { done: { type: "boolean" } }, required: ["done"] }, approval: "on_risk", model: "openai-compatible:fake", cwd: dir, max_retries: 3, max_steps: 30 };
    const ctx = context();
    const paused = await executor.run(inputs, ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(paused).toBeInstanceOf(ApprovalRequired);
    const { request, state } = paused as ApprovalRequired;
    expect(request.command).toBe("touch approved-file");
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(existsSync(join(dir, "approved-file"))).toBe(false);
    expect(ctx.logs.map((l) => l.data?.agent)).toEqual(["tool_call", "approval_required", "result"]);

    const ctx2 = context({ attempt: 2, resume: { decision: "approved", request, state: JSON.parse(JSON.stringify(state)), by: "ops" } });
    const result = (await executor.run(inputs, ctx2)) as { output: unknown; commands: unknown[] };
    expect(result.output).toEqual({ done: true });
    expect(existsSync(join(dir, "approved-file"))).toBe(true);
    expect(ctx2.logs.some((l) => l.data?.agent === "output" || l.data?.agent === "tool_result")).toBe(true);
  });

  it("a failed run fails the task with a typed error (timeout)", async () => {
    const { fake } = await fakeModel(steps(run("sleep 30")));
    process.env.GROVE_OPENAI_COMPATIBLE_BASE_URL = fake.url;
    const err = await makeAgentExecutor()
      .run({ prompt: "x", model: "openai-compatible:fake", timeout_ms: 400 }, context())
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(TaskFailure);
    expect((err as TaskFailure).type).toBe("timeout");
  });

  it("an unknown machine is an error unless resolveMachine knows it", async () => {
    const err = await makeAgentExecutor().run({ prompt: "x", machine: "db-1" }, context()).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/machine "db-1" is not known/);
  });

  it("runs as a task of a tree on Grove.local, and grove.agent.run works on the same client", async () => {
    const dir = workspace({});
    const { fake } = await fakeModel(steps(run("echo 42 > answer.txt"), (req) => answer({ success: lastResult(req).exit_code === 0, summary: "wrote it" })));
    process.env.GROVE_OPENAI_COMPATIBLE_BASE_URL = fake.url;
    process.env.GROVE_MODEL = "openai-compatible:fake";
    const grove = await Grove.local({ db: ":memory:" });
    try {
      const tree = await grove.run({ name: "t", tasks: [{ name: "ask", executor: "agent", inputs: { prompt: "write 42", cwd: dir } }] });
      expect(tree.status).toBe("completed");
      const task = tree.tasks.find((t) => t.name === "ask")!;
      expect((task.result as { output: unknown }).output).toEqual({ success: true, summary: "wrote it" });
      expect(readFileSync(join(dir, "answer.txt"), "utf8")).toBe("42\n");

      const Out = z.object({ success: z.boolean(), summary: z.string() });
      const sdk = await grove.agent.run({ prompt: "again", outputSchema: Out, cwd: dir, machine: "local" });
      const typed: { success: boolean; summary: string } | null = sdk.output;
      expect(typed).toEqual({ success: true, summary: "wrote it" });
      const kinds: string[] = [];
      for await (const e of grove.agent.runStream({ prompt: "stream", cwd: dir })) kinds.push(e.type);
      expect(kinds.at(-1)).toBe("result");
    } finally {
      await grove.close();
    }
  });
});
