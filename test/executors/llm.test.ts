import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import { llm, extractJson, type LlmResult } from "../../src/executors/llm.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";

// The model is the fake OpenAI-compatible server (a real HTTP server speaking the chat-completions
// wire format), reached through the AI SDK's real provider package.
let fake: FakeOpenAI;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  fake = await startFakeOpenAI([{ content: "hello" }]);
  for (const k of ["GROVE_MODEL", "GROVE_OPENAI_COMPATIBLE_BASE_URL"]) saved[k] = process.env[k];
  process.env.GROVE_MODEL = "openai-compatible:fake-model";
  process.env.GROVE_OPENAI_COMPATIBLE_BASE_URL = fake.url;
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
});

const run = (inputs: Record<string, unknown>, ctx = makeCtx().ctx) => runExecutor<LlmResult>(llm, inputs, ctx);
const user = (content: string) => [{ role: "user", content }];

describe("llm executor against the fake OpenAI-compatible server", () => {
  it("sends the messages, temperature and max_tokens; returns the text, model and usage", async () => {
    fake.setScript([{ content: "Paris.", usage: { prompt_tokens: 12, completion_tokens: 3 } }]);
    const r = await run({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Capital of France?" },
      ],
      temperature: 0.2,
      max_tokens: 50,
    });
    expect(r).toEqual({ text: "Paris.", model: "openai-compatible:fake-model", finish_reason: "stop", usage: { input_tokens: 12, output_tokens: 3 } });
    const body = fake.requests[0]!.body;
    expect(body.model).toBe("fake-model");
    expect(body.temperature).toBe(0.2);
    expect(body.max_tokens).toBe(50);
    expect(body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Capital of France?" },
    ]);
  });

  it("the task's model overrides GROVE_MODEL", async () => {
    fake.setScript([{ content: "ok" }]);
    const r = await run({ messages: user("hi"), model: "openai-compatible:other-model" });
    expect(r.model).toBe("openai-compatible:other-model");
    expect(fake.requests[0]!.body.model).toBe("other-model");
  });

  it("response_schema: the schema is given to the model and the JSON answer comes back parsed", async () => {
    fake.setScript([{ content: '```json\n{"city": "Paris", "population": 2100000}\n```' }]);
    const schema = { type: "object", properties: { city: { type: "string" }, population: { type: "integer" } }, required: ["city", "population"] };
    const r = await run({ messages: user("Largest city of France as JSON"), response_schema: schema });
    expect(r.output).toEqual({ city: "Paris", population: 2100000 });
    expect(fake.requests[0]!.messages[0]).toMatchObject({ role: "system" });
    expect(fake.requests[0]!.messages[0].content).toContain(JSON.stringify(schema));
  });

  it("response_schema: an answer that does not match is asked again once, with the reason", async () => {
    fake.setScript([{ content: '{"city": 42}' }, { content: '{"city": "Lyon", "population": 500000}' }]);
    const schema = { type: "object", properties: { city: { type: "string" }, population: { type: "integer" } }, required: ["city", "population"] };
    const { ctx, logs } = makeCtx();
    const r = await run({ messages: user("city?"), response_schema: schema }, ctx);
    expect(r.output).toEqual({ city: "Lyon", population: 500000 });
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]!.last).toMatch(/^That answer was rejected: it does not match the schema: /);
    expect(logs.map((l) => l.message).join("\n")).toContain("asking again");
  });

  it("response_schema: a second bad answer fails the task, saying why", async () => {
    fake.setScript([{ content: "I think it is Paris." }]);
    const f = await failureOf(run({ messages: user("city?"), response_schema: { type: "object", required: ["city"] } }));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/^the model's answer does not match response_schema after one retry: the answer is not JSON/);
    expect(fake.requests).toHaveLength(2);
  });

  it("an invalid response_schema or a missing model fails naming the field, before any request", async () => {
    const bad = await failureOf(run({ messages: user("x"), response_schema: { type: "nonsense" } }));
    expect(bad.type).toBe("validation_error");
    expect(bad.message).toMatch(/^inputs\.response_schema is not a valid JSON Schema/);
    const model = process.env.GROVE_MODEL;
    delete process.env.GROVE_MODEL;
    try {
      const f = await failureOf(run({ messages: user("x") }));
      expect(f.type).toBe("validation_error");
      expect(f.message).toMatch(/^inputs\.model: no model configured: set GROVE_MODEL/);
    } finally {
      process.env.GROVE_MODEL = model;
    }
    await expect(run({ messages: [] })).rejects.toThrow(/messages/);
    await expect(run({ messages: user("x"), model: "gpt-4" })).rejects.toThrow(/model/);
    expect(fake.requests).toHaveLength(0);
  });

  it("server errors are retried, then reported; a slow model times out", async () => {
    fake.setScript([{ content: "recovered" }]);
    fake.fail(500, 1, { "retry-after-ms": "10" });
    expect((await run({ messages: user("x") })).text).toBe("recovered");
    fake.fail(500, 3, { "retry-after-ms": "10" });
    const f = await failureOf(run({ messages: user("x") }));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/^llm completion failed: /);
    fake.setScript([{ content: "late", delayMs: 30_000 }]);
    const t = await failureOf(run({ messages: user("x"), timeout_ms: 1000 }));
    expect(t.type).toBe("timeout");
    expect(t.message).toBe("llm completion timed out after 1000 ms");
  });

  it("runs as a task through the engine", async () => {
    fake.setScript([{ content: "from the engine" }]);
    const r = await runTask("llm", { messages: user("hi") });
    expect(r.status).toBe("completed");
    expect(r.result.text).toBe("from the engine");
  });
});

describe("extractJson", () => {
  it("takes the whole text, a fenced block, or the outermost object/array", () => {
    expect(extractJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(extractJson('Here:\n```json\n[1,2]\n```\nDone.')).toEqual({ ok: true, value: [1, 2] });
    expect(extractJson('Sure! {"a": {"b": 2}} Hope it helps.')).toEqual({ ok: true, value: { a: { b: 2 } } });
    expect(extractJson("no json here").ok).toBe(false);
  });
});
