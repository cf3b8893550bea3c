// Model selection (GROVE_MODEL / model option, provider:model) and the providers' wire formats
// against the fake server: OpenAI chat completions through @ai-sdk/openai, streaming and not.
import { generateText } from "ai";
import { describe, expect, it } from "vitest";
import { parseModelSpec, resolveModel } from "../../src/agent/model.js";
import { runAgent } from "../../src/agent/run.js";
import { answer, fakeModel, steps } from "./helpers.js";

describe("model selection", () => {
  it("parses provider:model from the option or GROVE_MODEL", () => {
    expect(parseModelSpec("openai:gpt-4.1", {})).toEqual({ provider: "openai", model: "gpt-4.1" });
    expect(parseModelSpec(undefined, { GROVE_MODEL: "ollama:llama3.1:8b" })).toEqual({ provider: "ollama", model: "llama3.1:8b" });
    expect(() => parseModelSpec(undefined, {})).toThrow(/no model configured: set GROVE_MODEL/);
    expect(() => parseModelSpec("gpt-4.1", {})).toThrow(/not provider:model; set GROVE_MODEL/);
    expect(() => parseModelSpec("mistral:large", {})).toThrow(/unknown provider "mistral"/);
  });

  it("names the missing key or URL, never a key's value", async () => {
    await expect(resolveModel("openai:gpt-4.1", {})).rejects.toThrow(/needs OPENAI_API_KEY/);
    await expect(resolveModel("anthropic:claude-sonnet-4-5", {})).rejects.toThrow(/needs ANTHROPIC_API_KEY/);
    await expect(resolveModel("openai-compatible:x", {})).rejects.toThrow(/needs GROVE_OPENAI_COMPATIBLE_BASE_URL/);
    const ollama = await resolveModel("ollama:llama3", { OLLAMA_HOST: "10.0.0.5:11434" });
    expect(ollama.provider).toMatch(/^ollama/);
  });

  it("openai:MODEL talks chat completions to OPENAI_BASE_URL, with the key as a bearer token", async () => {
    const { fake } = await fakeModel(steps(answer({ success: true, summary: "via openai" })));
    const result = await runAgent({ prompt: "x", model: "openai:gpt-4.1", env: { OPENAI_API_KEY: "sk-test-secret", OPENAI_BASE_URL: fake.url } });
    expect(result.output).toEqual({ success: true, summary: "via openai" });
    expect(result.model).toBe("openai:gpt-4.1");
    expect(fake.requests[0]!.path).toBe("/v1/chat/completions");
    expect(fake.requests[0]!.body.model).toBe("gpt-4.1");
    expect(fake.requests[0]!.headers.authorization).toBe("Bearer sk-test-secret");
    expect(JSON.stringify(result)).not.toContain("sk-test-secret");
  });

  it("the fake server also answers non-streaming requests (generateText), tool calls included", async () => {
    const { fake, env } = await fakeModel(steps({ content: "hello", reasoning: "thinking…", usage: { prompt_tokens: 7, completion_tokens: 3 } }));
    const model = await resolveModel("openai-compatible:fake", env);
    const r = await generateText({ model, prompt: "hi" });
    expect(r.text).toBe("hello");
    expect(r.usage.totalTokens).toBe(10);
    expect(fake.requests[0]!.stream).toBe(false);
  });
});
