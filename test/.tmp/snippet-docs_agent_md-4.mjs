import { Grove } from "grove";
import { MockLanguageModelV3 } from "ai/test";

const usage = { inputTokens: { total: 3 }, outputTokens: { total: 2 } };
const reply = (toolName, input) => ({
  stream: new ReadableStream({
    start(c) {
      c.enqueue({ type: "stream-start", warnings: [] });
      c.enqueue({ type: "tool-call", toolCallId: toolName, toolName, input: JSON.stringify(input) });
      c.enqueue({ type: "finish", finishReason: { unified: "tool-calls", raw: "tool_calls" }, usage });
      c.close();
    },
  }),
});
let step = 0;
const model = new MockLanguageModelV3({
  doStream: async () => (step++ === 0 ? reply("run_command", { command: "echo hello" }) : reply("final_answer", { success: true, summary: "said hello" })),
});

const grove = await Grove.local({ db: ":memory:" });
const result = await grove.agent.run({ prompt: "say hello", model });
console.log(result.status, result.commands[0].command, JSON.stringify(result.output));
await grove.close();
