// How the loop hands the conversation to the SDK (run.ts): each message is validated once when it
// joins, the whole conversation still reaches the model every step, and a message that does not
// match the SDK's ModelMessage schema still fails the run as it did when streamText validated it.
import { ReadableStream } from "node:stream/web";
import { MockLanguageModelV3 } from "ai/test";
import { describe, expect, it } from "vitest";
import { resumeAgent, runAgent } from "../../src/agent/run.js";
import type { Machine } from "../../src/machines/types.js";

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };

/** A model that reads a file (or runs `ls`) `steps` times, then answers. */
function mockModel(steps: number, tool: "read_file" | "run_command" = "read_file") {
  let n = 0;
  return new MockLanguageModelV3({
    doStream: async () => {
      n++;
      const call =
        n > steps
          ? { type: "tool-call" as const, toolCallId: `c${n}`, toolName: "final_answer", input: JSON.stringify({ success: true, summary: "done" }) }
          : tool === "run_command"
            ? { type: "tool-call" as const, toolCallId: `c${n}`, toolName: "run_command", input: JSON.stringify({ command: "ls" }) }
            : { type: "tool-call" as const, toolCallId: `c${n}`, toolName: "read_file", input: JSON.stringify({ path: `/w/f${n}.txt` }) };
      const parts = [{ type: "stream-start" as const, warnings: [] }, call, { type: "finish" as const, finishReason: { unified: "tool-calls" as const, raw: "tool_calls" }, usage }];
      return { stream: new ReadableStream({ start: (c) => (parts.forEach((p) => c.enqueue(p)), c.close()) }) as never };
    },
  });
}

const memory: Machine = {
  name: "memory",
  kind: "local",
  labels: {},
  exec: async () => ({ exitCode: 0, signal: null, stdout: "", stderr: "", timedOut: false, aborted: false, truncated: false, durationMs: 0 }),
  readFile: async (p: string) => `content of ${p}\n`,
  writeFile: async () => undefined,
  listDir: async () => [],
  close: async () => undefined,
} as unknown as Machine;

describe("the conversation sent to the model", () => {
  it("is the whole conversation at every step, system prompt first", async () => {
    const model = mockModel(3);
    const r = await runAgent({ prompt: "read three files", model, machine: memory, cwd: "/w" });
    expect(r.status).toBe("completed");
    expect(r.steps).toBe(4);
    expect(r.usage).toEqual({ input_tokens: 4, output_tokens: 4, total_tokens: 8 });
    const prompts = model.doStreamCalls.map((c) => c.prompt);
    expect(prompts).toHaveLength(4);
    prompts.forEach((prompt, i) => {
      expect(prompt.map((m) => m.role)).toEqual(["system", "user", ...Array.from({ length: i }, () => ["assistant", "tool"]).flat()]);
      expect(prompt[1]).toEqual({ role: "user", content: [{ type: "text", text: "read three files" }] });
      for (let k = 0; k < i; k++) {
        const assistant = prompt[2 + 2 * k]!;
        const tool = prompt[3 + 2 * k]!;
        expect(assistant.content).toEqual([expect.objectContaining({ type: "tool-call", toolCallId: `c${k + 1}`, toolName: "read_file", input: { path: `/w/f${k + 1}.txt` } })]);
        expect(tool.content).toEqual([
          expect.objectContaining({ type: "tool-result", toolCallId: `c${k + 1}`, toolName: "read_file", output: { type: "json", value: { content: `content of /w/f${k + 1}.txt\n` } } }),
        ]);
      }
    });
  });

  it("a message that does not match the ModelMessage schema (a tampered state) fails the run as a model error", async () => {
    const paused = await runAgent({ prompt: "list", model: mockModel(1, "run_command"), machine: memory, cwd: "/w", approval: "always" });
    expect(paused.status).toBe("waiting_approval");
    const state = paused.state!;
    state.messages.push({ role: "user", content: [{ type: "no-such-part" }] } as never);
    const r = await resumeAgent(state, false, { model: mockModel(1), machine: memory });
    expect(r.status).toBe("failed");
    expect(r.error!.type).toBe("model_error");
    expect(r.error!.message).toBe("model call failed: Invalid prompt: The messages do not match the ModelMessage[] schema.");
  });

  it("a message with a role the schema does not know fails the same way", async () => {
    const paused = await runAgent({ prompt: "list", model: mockModel(1, "run_command"), machine: memory, cwd: "/w", approval: "always" });
    const state = paused.state!;
    state.messages.splice(1, 0, { role: "narrator", content: "x" } as never);
    const model = mockModel(1);
    const r = await resumeAgent(state, false, { model, machine: memory });
    expect(r.error?.message).toBe("model call failed: Invalid prompt: The messages do not match the ModelMessage[] schema.");
    expect(model.doStreamCalls).toHaveLength(0);
  });
});
