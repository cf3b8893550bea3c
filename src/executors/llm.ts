import { z } from "zod";
import { defineExecutor, type ExecutorContext } from "../core/executor.js";
import { InputError, TaskFailure } from "../core/errors.js";
import { describeIssues, validate, type JsonSchema } from "../core/validation.js";
import { abortFailure, deadline, errorText } from "./net-target.js";

/**
 * One chat completion through the AI SDK. The model is `provider:model` as GROVE_MODEL takes it
 * (openai, anthropic, openai-compatible, ollama; keys and base URLs from the worker's
 * environment), resolved by src/agent/model.ts.
 *
 * Layering note: model.ts lives in src/agent, above executors (DESIGN §1); it is imported lazily
 * and has no dependency on the agent itself (the same exception as spawn-policy.ts).
 */

const Message = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});

export const LlmInput = z.strictObject({
  messages: z.array(Message).min(1).describe("The conversation: [{role: system|user|assistant, content}]"),
  model: z
    .string()
    .regex(/^[a-z-]+:.+/, "must be provider:model")
    .optional()
    .describe("provider:model, e.g. openai:gpt-4.1 (default: the worker's GROVE_MODEL)"),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().optional().describe("Limit on the answer's tokens"),
  response_schema: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("A JSON Schema: the answer must be JSON matching it (returned parsed as `output`); asked again once when it does not"),
  timeout_ms: z.number().int().positive().default(120_000),
});

export const LlmOutput = z.object({
  text: z.string().describe("The answer as the model wrote it"),
  output: z.unknown().optional().describe("With response_schema: the answer, parsed and validated"),
  model: z.string().describe("provider:model"),
  finish_reason: z.string(),
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number() }),
});

export type LlmInputs = z.output<typeof LlmInput>;
export type LlmResult = z.infer<typeof LlmOutput>;

export const llm = defineExecutor({
  id: "llm",
  name: "LLM chat completion",
  description:
    "One chat completion (messages, model as provider:model or GROVE_MODEL, temperature, max_tokens); with " +
    "response_schema the answer must be JSON matching that JSON Schema and is returned parsed as `output`.",
  input: LlmInput,
  output: LlmOutput,
  cancelable: true,
  execute: (inputs, ctx) => complete(inputs, ctx),
});

/** The JSON value in a model's answer: the whole text, or the body of a ```json fence, or the outermost {...} / [...]. */
export function extractJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const candidates: string[] = [text.trim()];
  const fence = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(text);
  if (fence) candidates.push(fence[1]!.trim());
  for (const [open, close] of [
    ["{", "}"],
    ["[", "]"],
  ] as const) {
    const a = text.indexOf(open);
    const b = text.lastIndexOf(close);
    if (a >= 0 && b > a) candidates.push(text.slice(a, b + 1));
  }
  let first: string | undefined;
  for (const c of candidates) {
    if (!c) continue;
    try {
      return { ok: true, value: JSON.parse(c) };
    } catch (err) {
      first ??= (err as Error).message;
    }
  }
  return { ok: false, error: `the answer is not JSON (${first ?? "it is empty"})` };
}

export interface ChatOptions {
  model?: string;
  temperature?: number;
  maxTokens?: number;
  signal: AbortSignal;
}

export interface ChatAnswer {
  text: string;
  model: string;
  finishReason: string;
  usage: { input_tokens: number; output_tokens: number };
}

/** One completion; model-option errors (no GROVE_MODEL, missing key) become validation failures naming `model`. */
export async function chat(messages: { role: "system" | "user" | "assistant"; content: string }[], opts: ChatOptions): Promise<ChatAnswer> {
  const { resolveModel, modelLabel } = await import("../agent/model.js");
  let model;
  let label: string;
  try {
    model = await resolveModel(opts.model);
    label = modelLabel(opts.model);
  } catch (err) {
    if (err instanceof InputError) throw new TaskFailure("validation_error", `inputs.model: ${err.message}`);
    throw err;
  }
  const { generateText } = await import("ai");
  // Leading system messages go in the `system` option (the SDK warns on system messages inside
  // `messages`); a system message later in a tree author's conversation is passed as written.
  let lead = 0;
  while (lead < messages.length && messages[lead]!.role === "system") lead++;
  const system = messages.slice(0, lead).map((m) => m.content).join("\n\n");
  const rest = messages.slice(lead);
  const r = await generateText({
    model,
    ...(system ? { system } : {}),
    messages: rest,
    ...(rest.some((m) => m.role === "system") ? { allowSystemInMessages: true } : {}),
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
    ...(opts.maxTokens !== undefined ? { maxOutputTokens: opts.maxTokens } : {}),
    abortSignal: opts.signal,
    maxRetries: 2,
  });
  return {
    text: r.text,
    model: label,
    finishReason: r.finishReason,
    usage: { input_tokens: r.usage.inputTokens ?? 0, output_tokens: r.usage.outputTokens ?? 0 },
  };
}

function schemaInstruction(schema: JsonSchema): string {
  return `Answer with only a JSON value (no prose, no code fence) that matches this JSON Schema:\n${JSON.stringify(schema)}`;
}

async function complete(inputs: LlmInputs, ctx: ExecutorContext): Promise<LlmResult> {
  const timeoutMs = inputs.timeout_ms ?? 120_000;
  const what = "llm completion";
  const schema = inputs.response_schema as JsonSchema | undefined;
  if (schema !== undefined) {
    const probe = safeValidate(schema, null);
    if (probe !== null) throw new TaskFailure("validation_error", `inputs.response_schema is not a valid JSON Schema: ${probe}`);
  }
  const { signal, done } = deadline(ctx.signal, timeoutMs, what);
  try {
    const messages = [...inputs.messages];
    if (schema) messages.unshift({ role: "system", content: schemaInstruction(schema) });
    const opts = { model: inputs.model, temperature: inputs.temperature, maxTokens: inputs.max_tokens, signal };
    let answer = await chat(messages, opts);
    const usage = { ...answer.usage };
    if (!schema) return { text: answer.text, model: answer.model, finish_reason: answer.finishReason, usage };

    // The answer must be JSON matching the schema; the model is told what was wrong once.
    let problem = check(answer.text, schema);
    if (problem.ok === false) {
      ctx.log(`the answer does not match response_schema (${problem.error}); asking again`);
      const retry = [
        ...messages,
        { role: "assistant" as const, content: answer.text },
        { role: "user" as const, content: `That answer was rejected: ${problem.error}. ${schemaInstruction(schema)}` },
      ];
      answer = await chat(retry, opts);
      usage.input_tokens += answer.usage.input_tokens;
      usage.output_tokens += answer.usage.output_tokens;
      problem = check(answer.text, schema);
    }
    if (problem.ok === false) {
      throw new TaskFailure("executor_error", `the model's answer does not match response_schema after one retry: ${problem.error}`, {
        text: answer.text,
      });
    }
    return { text: answer.text, output: problem.value, model: answer.model, finish_reason: answer.finishReason, usage };
  } catch (err) {
    if (signal.aborted) throw abortFailure(signal, what);
    if (err instanceof TaskFailure) throw err;
    throw new TaskFailure("executor_error", `${what} failed: ${errorText(err)}`);
  } finally {
    done();
  }
}

function check(text: string, schema: JsonSchema): { ok: true; value: unknown } | { ok: false; error: string } {
  const parsed = extractJson(text);
  if (!parsed.ok) return parsed;
  const v = validate(schema, parsed.value);
  if (!v.ok) return { ok: false, error: `it does not match the schema: ${describeIssues(v.issues)}` };
  return { ok: true, value: v.value };
}

/** null when the schema compiles, else the compiler's message. */
function safeValidate(schema: JsonSchema, value: unknown): string | null {
  try {
    validate(schema, value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
