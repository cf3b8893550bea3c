// The loop's contracts: the final answer is validated and re-asked up to maxRetries, failed model
// calls (429, 500) are retried with backoff, dry runs and denials never execute, events stream.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { runAgent, runAgentStream } from "../../src/agent/run.js";
import type { AgentEvent } from "../../src/agent/types.js";
import { answer, fakeModel, lastResult, run, steps, workspace } from "./helpers.js";

const Out = z.object({ count: z.number().int(), files: z.array(z.string()) });

describe("final answer validation", () => {
  it("a mismatching answer is re-asked with the validation errors, then accepted", async () => {
    const dir = workspace({ "a.txt": "", "b.txt": "" });
    const { model, env, fake } = await fakeModel(
      steps(run("ls"), answer({ count: "two", files: "a.txt b.txt" }), (req) => {
        expect(req.last).toMatch(/does not match the output schema/);
        return answer({ count: 2, files: lastResult({ ...req, toolResults: req.toolResults.slice(0, 1) }).stdout.trim().split("\n") });
      }),
    );
    const result = await runAgent({ prompt: "count the files", outputSchema: Out, model, env, cwd: dir, maxRetries: 1 });
    expect(result.status).toBe("completed");
    expect(result.output).toEqual({ count: 2, files: ["a.txt", "b.txt"] });
    const feedback = fake.requests[2]!.toolResults[1]!.content;
    expect(feedback).toContain("/count: must be integer");
    expect(feedback).toContain("/files: must be array");
    expect(feedback).toMatch(/0 retries left/);
  });

  it("fails with the validation errors once maxRetries re-asks are used up", async () => {
    const { model, env, fake } = await fakeModel(steps(answer({ count: -1.5 })));
    const result = await runAgent({ prompt: "count", outputSchema: Out, model, env, maxRetries: 2 });
    expect(result.status).toBe("failed");
    expect(result.output).toBeNull();
    expect(result.error!.type).toBe("validation_error");
    expect(result.error!.message).toMatch(/after 2 retries/);
    expect((result.error!.details as { errors: string[] }).errors).toEqual(['(root): must have required property \'files\'', "/count: must be integer"]);
    expect(fake.completions()).toHaveLength(3); // the first answer + 2 re-asks
  });

  it("accepts a plain JSON Schema (also one that is not an object, wrapped for the tool)", async () => {
    const schema = { type: "array", items: { type: "string" }, minItems: 1 };
    const { model, env, fake } = await fakeModel(steps(answer({ output: [] }), answer({ output: ["x"] })));
    const result = await runAgent({ prompt: "list", outputSchema: schema, model, env });
    expect(result.output).toEqual(["x"]);
    expect(fake.requests[0]!.body.tools[4].function.parameters.properties.output).toEqual(schema);
  });

  it("a model that answers in text is reminded to call final_answer (and JSON text that matches is accepted)", async () => {
    const { model, env } = await fakeModel(steps({ content: "All done, 3 files." }, { content: '```json\n{"success": true, "summary": "3 files"}\n```' }));
    const result = await runAgent({ prompt: "count", model, env });
    expect(result.status).toBe("completed");
    expect(result.output).toEqual({ success: true, summary: "3 files" });
    expect(result.steps).toBe(2);
  });

  it("malformed tool arguments are reported to the model, which can recover", async () => {
    const { model, env } = await fakeModel(
      steps({ tool_calls: [{ name: "run_command", arguments: '{"command": "echo hi' }] }, (req) => answer({ success: false, summary: lastResult(req).error })),
    );
    const result = await runAgent({ prompt: "x", model, env });
    expect((result.output as { summary: string }).summary).toMatch(/^invalid arguments: .*JSON/);
    expect(result.commands).toEqual([]);
  });

  it("stops after maxSteps model calls", async () => {
    const { model, env } = await fakeModel(steps(run("true")));
    const result = await runAgent({ prompt: "loop", model, env, maxSteps: 3 });
    expect(result.status).toBe("failed");
    expect(result.error!.type).toBe("max_steps");
    expect(result.commands).toHaveLength(3);
  });
});

describe("model call retries", () => {
  it("429 (with retry-after-ms) is retried and the run completes", async () => {
    const { model, env, fake } = await fakeModel(steps(run("echo ok"), (req) => answer({ success: true, summary: lastResult(req).stdout.trim() })));
    fake.fail(429, 2, { "retry-after-ms": "20" });
    const result = await runAgent({ prompt: "x", model, env });
    expect(result.status).toBe("completed");
    expect(result.output).toEqual({ success: true, summary: "ok" });
    expect(fake.requests).toHaveLength(4);
    expect(fake.completions()).toHaveLength(2);
  });

  it("500 is retried with the SDK's exponential backoff", async () => {
    const { model, env, fake } = await fakeModel(steps(answer({ success: true, summary: "fine" })));
    fake.fail(500, 1);
    const result = await runAgent({ prompt: "x", model, env });
    expect(result.status).toBe("completed");
    expect(fake.requests.map((r) => r.index)).toEqual([0, 1]);
    expect(fake.completions()).toHaveLength(1);
  });

  it("when retries run out the run fails with a model_error naming the HTTP status", async () => {
    const { model, env, fake } = await fakeModel(steps(answer({ success: true, summary: "never" })));
    fake.fail(429, 5, { "retry-after-ms": "5" });
    const result = await runAgent({ prompt: "x", model, env, apiRetries: 1 });
    expect(result.status).toBe("failed");
    expect(result.error!.type).toBe("model_error");
    expect(result.error!.message).toMatch(/HTTP 429/);
    expect(fake.requests).toHaveLength(2);
  });
});

describe("timeouts", () => {
  it("a model call that hangs is aborted by the run timeout", async () => {
    const { model, env } = await fakeModel(steps({ ...answer({ success: true, summary: "late" }), delayMs: 60_000 }));
    const result = await runAgent({ prompt: "x", model, env, timeout: 500 });
    expect(result.status).toBe("failed");
    expect(result.error).toEqual({ type: "timeout", message: "the run timed out after 500 ms" });
  });

  it("a command over its own timeout is killed and the model is told", async () => {
    const { model, env } = await fakeModel(steps(run("sleep 30", { timeout_ms: 300 }), (req) => answer({ success: false, summary: String(lastResult(req).timed_out) })));
    const result = await runAgent({ prompt: "x", model, env });
    expect(result.output).toEqual({ success: false, summary: "killed after 300 ms" });
    expect(result.commands[0]!.timed_out).toBe(true);
  });

  it("cancelling via signal stops the run", async () => {
    const { model, env } = await fakeModel(steps(run("sleep 30")));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const result = await runAgent({ prompt: "x", model, env, signal: ac.signal });
    expect(result.error!.type).toBe("cancelled");
  });
});

describe("safety", () => {
  it("a denied command is never executed, and the model gets the reasons", async () => {
    const dir = workspace({});
    const marker = join(dir, "side-effect");
    const { model, env, fake } = await fakeModel(
      steps(run(`echo $(sudo touch ${marker})`), run(`bash -c 'touch ${marker}' ; rm -rf ${dir}`), (req) => answer({ success: false, summary: req.toolResults.map((r) => JSON.parse(r.content).reasons.join(",")).join(" | ") })),
    );
    const result = await runAgent({ prompt: "x", model, env, cwd: dir, restrictions: { no_sudo: true, no_delete: true } });
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(dir)).toBe(true);
    expect(result.commands).toEqual([]);
    expect((result.output as { summary: string }).summary).toMatch(/^no_sudo: "sudo".* \| no_delete: "rm"/);
    expect(fake.requests[1]!.toolResults[0]!.content).toContain('"denied":true');
  });

  it("dry_run records planned actions without running them; read-only commands run", async () => {
    const dir = workspace({ "data.txt": "v1\n" });
    const { model, env } = await fakeModel(
      steps(run("cat data.txt"), run("echo v2 > data.txt"), { tool_calls: [{ name: "write_file", arguments: { path: "new.txt", content: "hello" } }] }, (req) =>
        answer({ success: true, summary: req.toolResults.map((r) => (JSON.parse(r.content).dry_run ? "planned" : "ran")).join(",") }),
      ),
    );
    const result = await runAgent({ prompt: "x", model, env, cwd: dir, restrictions: { dry_run: true } });
    expect((result.output as { summary: string }).summary).toBe("ran,planned,planned");
    expect(readFileSync(join(dir, "data.txt"), "utf8")).toBe("v1\n");
    expect(existsSync(join(dir, "new.txt"))).toBe(false);
    expect(result.planned_actions).toEqual([
      { tool: "run_command", command: "echo v2 > data.txt", cwd: dir, reasons: [expect.stringMatching(/^dry_run: "echo" writes data.txt/)] },
      { tool: "write_file", command: `write_file ${join(dir, "new.txt")} (5 bytes)`, path: join(dir, "new.txt"), reasons: [expect.stringMatching(/^dry_run/)] },
    ]);
    expect(result.commands.map((c) => c.command)).toEqual(["cat data.txt"]);
  });

  it("file tools respect allowed_dirs and read_only_dirs", async () => {
    const dir = workspace({ "in.txt": "inside\n" });
    const ro = workspace({ "ro.txt": "readonly\n" });
    const other = workspace({ "secret.txt": "s\n" });
    const calls = [
      { name: "read_file", arguments: { path: "in.txt" } },
      { name: "read_file", arguments: { path: join(ro, "ro.txt") } },
      { name: "read_file", arguments: { path: join(other, "secret.txt") } },
      { name: "write_file", arguments: { path: join(ro, "x.txt"), content: "x" } },
      { name: "write_file", arguments: { path: "out.txt", content: "written" } },
      { name: "list_dir", arguments: { path: "../" + other.split("/").pop() } },
    ];
    const { model, env } = await fakeModel((req) => {
      const i = req.toolResults.length;
      if (i < calls.length) return { tool_calls: [calls[i]!] };
      return answer({ success: true, summary: req.toolResults.map((r) => (JSON.parse(r.content).denied ? "denied" : "ok")).join(",") });
    });
    const result = await runAgent({ prompt: "x", model, env, cwd: dir, restrictions: { allowed_dirs: [dir], read_only_dirs: [ro] } });
    expect((result.output as { summary: string }).summary).toBe("ok,ok,denied,denied,ok,denied");
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("written");
    expect(existsSync(join(ro, "x.txt"))).toBe(false);
  });
});

describe("streaming", () => {
  it("runAgentStream yields thinking, tool_call, output, tool_result, result in order", async () => {
    const { model, env } = await fakeModel(
      steps({ reasoning: "I should list the files", ...run("printf 'a\\nb\\n'") }, (req) => answer({ success: true, summary: lastResult(req).stdout })),
    );
    const events: AgentEvent[] = [];
    for await (const e of runAgentStream({ prompt: "x", model, env })) events.push(e);
    expect(events.map((e) => e.type)).toEqual(["thinking", "tool_call", "output", "tool_result", "tool_call", "tool_result", "result"]);
    expect(events[0]).toMatchObject({ type: "thinking", content: "I should list the files" });
    expect(events[1]).toMatchObject({ type: "tool_call", tool: "run_command", args: { command: "printf 'a\\nb\\n'" } });
    expect(events[2]).toMatchObject({ type: "output", stream: "stdout", chunk: "a\nb\n" });
    expect(events[6]).toMatchObject({ type: "result", status: "completed", output: { success: true, summary: "a\nb\n" } });
  });

  it("the no-model error names GROVE_MODEL", async () => {
    await expect(runAgent({ prompt: "x", env: {} })).rejects.toThrow(/no model configured: set GROVE_MODEL=/);
    const it = runAgentStream({ prompt: "x", env: { GROVE_MODEL: "nonsense" } })[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toThrow(/GROVE_MODEL/);
  });
});
