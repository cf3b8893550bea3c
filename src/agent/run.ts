// The agent loop (DESIGN §9, seed 000): one model call per step through the Vercel AI SDK, then
// the tool calls of that step carried out here (tools.ts), in order, until a final_answer matches
// the output schema. The loop is ours rather than the SDK's multi-step loop so that a run can stop
// at any tool call awaiting approval, with its whole state as JSON, and continue later — in
// another process, after a restart — from exactly there (resumeAgent).
import type { LanguageModel, ModelMessage, ToolSet } from "ai";
import type { z } from "zod";
import { InputError, type ApprovalRequest } from "../core/errors.js";
import type { JsonSchema } from "../core/validation.js";
import { localMachine } from "../machines/local.js";
import type { Machine } from "../machines/types.js";
import { Channel } from "./channel.js";
import { modelLabel, resolveModel, type ModelOption } from "./model.js";
import { outputSpec, type OutputSpec } from "./output-schema.js";
import { loadPolicy, parseRestrictions, type Policy } from "./policy/check.js";
import { PolicyConfigError, type ParsedRestrictions } from "./policy/types.js";
import { systemPrompt, userPrompt } from "./prompt.js";
import { runTool, toolDefs, type ToolEnv } from "./tools.js";
import {
  APPROVAL_MODES,
  type AgentError,
  type AgentEvent,
  type AgentResult,
  type AgentRunOptions,
  type AgentState,
  type OutputOf,
  type PendingCall,
  type StateSettings,
  type ToolResultJson,
} from "./types.js";

export const DEFAULTS = { maxRetries: 3, maxSteps: 30, commandTimeout: 120_000, maxOutputBytes: 16_384, apiRetries: 3 };

/** How a paused run continues: the human's decision on the awaited call. */
export type Decision = boolean | { approved: boolean; reason?: string };

/** Options of resumeAgent: what JSON state cannot carry (machine, model object, zod schema, callbacks). */
export type ResumeOptions<S extends z.ZodType | JsonSchema | undefined = undefined> = Partial<
  Pick<AgentRunOptions<S>, "machine" | "model" | "onApproval" | "signal" | "env" | "outputSchema" | "timeout">
>;

interface Prepared {
  state: AgentState;
  output: OutputSpec;
  restrictions: ParsedRestrictions;
  policy: Policy;
  model: Exclude<LanguageModel, string>;
  machine: Machine;
  label: string;
}

/** Runs the agent to its end (or to an approval it cannot get inline). */
export async function runAgent<S extends z.ZodType | JsonSchema | undefined = undefined>(
  opts: AgentRunOptions<S> & { onEvent?: (e: AgentEvent) => void },
): Promise<AgentResult<OutputOf<S>>> {
  const prepared = await prepare(opts);
  return (await loop(prepared, opts, undefined, opts.onEvent ?? (() => undefined))) as AgentResult<OutputOf<S>>;
}

/** The same run as an async iterator of events; the last one is `result` or `error`. */
export function runAgentStream<S extends z.ZodType | JsonSchema | undefined = undefined>(opts: AgentRunOptions<S>): AsyncIterable<AgentEvent> {
  return streamOf((emit) => runAgent({ ...opts, onEvent: emit }));
}

/** Continues a run that ended "waiting_approval" with the human's decision. */
export async function resumeAgent<S extends z.ZodType | JsonSchema | undefined = undefined>(
  state: AgentState,
  decision: Decision,
  opts: ResumeOptions<S> & { onEvent?: (e: AgentEvent) => void } = {},
): Promise<AgentResult<OutputOf<S>>> {
  if (!state || state.version !== 1 || !Array.isArray(state.messages) || !state.settings) throw new InputError("resume: not an agent state", "state");
  if (state.pending.length === 0) throw new InputError("resume: the state awaits no approval", "state");
  const prepared = await prepare({ ...opts, resumeFrom: structuredClone(state) });
  const d = typeof decision === "boolean" ? { approved: decision } : decision;
  return (await loop(prepared, opts, d, opts.onEvent ?? (() => undefined))) as AgentResult<OutputOf<S>>;
}

export function resumeAgentStream(state: AgentState, decision: Decision, opts: ResumeOptions<any> = {}): AsyncIterable<AgentEvent> {
  return streamOf((emit) => resumeAgent(state, decision, { ...opts, onEvent: emit }));
}

function streamOf(start: (emit: (e: AgentEvent) => void) => Promise<unknown>): AsyncIterable<AgentEvent> {
  return {
    [Symbol.asyncIterator]() {
      const ch = new Channel<AgentEvent>();
      start((e) => ch.push(e)).then(
        () => ch.close(),
        (err) => ch.fail(err),
      );
      return ch[Symbol.asyncIterator]();
    },
  };
}

async function prepare(opts: Partial<AgentRunOptions<any>> & { resumeFrom?: AgentState }): Promise<Prepared> {
  const env = opts.env ?? process.env;
  const machine = opts.machine ?? localMachine;
  let state: AgentState;
  let output: OutputSpec;
  if (opts.resumeFrom) {
    state = opts.resumeFrom;
    output = outputSpec(opts.outputSchema ?? state.settings.outputSchema, state.settings.wrapped);
    if (opts.timeout !== undefined) state.settings.timeout = opts.timeout;
  } else {
    if (typeof opts.prompt !== "string" || !opts.prompt.trim()) throw new InputError("prompt: must not be empty", "prompt");
    const approval = opts.approval ?? "never";
    if (!APPROVAL_MODES.includes(approval)) throw new InputError(`approval: must be one of ${APPROVAL_MODES.join(", ")}`, "approval");
    output = outputSpec(opts.outputSchema);
    const int = (v: number | undefined, name: string, def: number, min: number) => {
      if (v === undefined) return def;
      if (!Number.isInteger(v) || v < min) throw new InputError(`${name}: must be an integer ≥ ${min}`, name);
      return v;
    };
    if (opts.timeout !== undefined && !(opts.timeout > 0)) throw new InputError("timeout: must be a positive number of milliseconds", "timeout");
    const settings: StateSettings = {
      prompt: opts.prompt,
      outputSchema: output.schema,
      wrapped: output.wrapped,
      ...(opts.context !== undefined ? { context: opts.context } : {}),
      restrictions: opts.restrictions ?? {},
      approval,
      maxRetries: int(opts.maxRetries, "maxRetries", DEFAULTS.maxRetries, 0),
      maxSteps: int(opts.maxSteps, "maxSteps", DEFAULTS.maxSteps, 1),
      ...(typeof opts.model === "string" ? { model: opts.model } : {}),
      cwd: opts.cwd ?? (machine.kind === "local" ? process.cwd() : "/"),
      commandTimeout: int(opts.commandTimeout, "commandTimeout", DEFAULTS.commandTimeout, 1),
      maxOutputBytes: int(opts.maxOutputBytes, "maxOutputBytes", DEFAULTS.maxOutputBytes, 1),
      apiRetries: int(opts.apiRetries, "apiRetries", DEFAULTS.apiRetries, 0),
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
      machine: machine.name,
    };
    state = {
      version: 1,
      settings,
      messages: [{ role: "user", content: userPrompt(settings) }],
      pending: [],
      results: [],
      planned_actions: [],
      commands: [],
      usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 },
      steps: 0,
      retries: 0,
    };
  }
  const modelOption: ModelOption | undefined = opts.model ?? state.settings.model;
  const model = await resolveModel(modelOption, env);
  let restrictions: ParsedRestrictions;
  const policy = await loadPolicy();
  try {
    restrictions = parseRestrictions(state.settings.restrictions);
    policy.check("true", restrictions, { cwd: state.settings.cwd }); // verifies entries' examples up front
  } catch (err) {
    if (err instanceof PolicyConfigError) throw new InputError(`restrictions.${err.message}`, "restrictions");
    throw err;
  }
  const label = modelLabel(typeof modelOption === "object" ? model : modelOption, env);
  // A model named by string (or GROVE_MODEL) is remembered, so a resumed run uses the same one.
  if (typeof modelOption !== "object") state.settings.model = label;
  return { state, output, restrictions, policy, model, machine, label };
}

class Stop extends Error {
  constructor(readonly agentError: AgentError) {
    super(agentError.message);
  }
}

async function loop(
  p: Prepared,
  opts: { onApproval?: (r: ApprovalRequest) => Promise<boolean> | boolean; signal?: AbortSignal },
  decision: { approved: boolean; reason?: string } | undefined,
  emit: (e: AgentEvent) => void,
): Promise<AgentResult> {
  const { state, output } = p;
  const s = state.settings;
  // Loaded before the run's clock starts: the timeout is about the work, not module loading.
  const ai = await import("ai");
  const { streamText, jsonSchema, tool, InvalidPromptError } = ai;
  const ac = new AbortController();
  let why: AgentError | null = null;
  const abort = (e: AgentError) => {
    if (ac.signal.aborted) return;
    why = e;
    ac.abort(new Stop(e));
  };
  const timer = s.timeout !== undefined ? setTimeout(() => abort({ type: "timeout", message: `the run timed out after ${s.timeout} ms` }), s.timeout) : undefined;
  const onCancel = () => abort({ type: "cancelled", message: "the run was cancelled" });
  if (opts.signal?.aborted) onCancel();
  else opts.signal?.addEventListener("abort", onCancel, { once: true });

  const finish = (status: AgentResult["status"], out: unknown, error?: AgentError, approval?: ApprovalRequest): AgentResult => {
    const result: AgentResult = {
      status,
      output: status === "completed" ? out : null,
      ...(error ? { error } : {}),
      planned_actions: state.planned_actions,
      commands: state.commands,
      steps: state.steps,
      usage: state.usage,
      model: p.label,
      ...(approval ? { approval, state: JSON.parse(JSON.stringify(state)) as AgentState } : {}),
    };
    if (status === "failed") emit({ type: "error", error: error!, result });
    else emit({ type: "result", status, output: result.output, result });
    return result;
  };

  const env: ToolEnv = { machine: p.machine, policy: p.policy, restrictions: p.restrictions, settings: s, output, state, signal: ac.signal, emit };
  const defs = toolDefs(output);
  const tools: ToolSet = Object.fromEntries(Object.entries(defs).map(([name, d]) => [name, tool({ description: d.description, inputSchema: jsonSchema(d.inputSchema as any) })]));
  const system = systemPrompt(s, p.machine.kind);
  // streamText validates every message it is given against the SDK's ModelMessage schema, on every
  // call: resending the whole conversation each step made a run quadratic (most of a step's time,
  // ~40 ms at 200 steps). Each message is validated here once, when it joins the conversation (it
  // is never changed afterwards), with the same schema and the same error; streamText gets the
  // first message as its prompt and the whole conversation through prepareStep, whose messages
  // it converts for the model exactly as it converts its own, without validating them again.
  // ModelMessage is a union of one object schema per role, each requiring its role: a message is
  // valid for the union exactly when it is valid for its role's schema, which is checked directly
  // (the union tries the others first, at several times the cost); any other role gets the union.
  const bySchema: Record<string, { safeParse(v: unknown): { success: boolean; error?: unknown } }> = {
    system: ai.systemModelMessageSchema,
    user: ai.userModelMessageSchema,
    assistant: ai.assistantModelMessageSchema,
    tool: ai.toolModelMessageSchema,
  };
  let validated = 0;
  const validateNew = () => {
    for (; validated < state.messages.length; validated++) {
      const m = state.messages[validated]!;
      if (m.role === "system")
        console.warn(
          "AI SDK Warning: System messages in the prompt or messages fields can be a security risk because they may enable prompt injection attacks. Use the system option instead when possible. Set allowSystemInMessages to true to suppress this warning, or false to throw an error.",
        );
      const role = (m as { role?: unknown } | null)?.role;
      const checked = (typeof role === "string" && Object.hasOwn(bySchema, role) ? bySchema[role]! : ai.modelMessageSchema).safeParse(m);
      if (!checked.success) throw new InvalidPromptError({ prompt: undefined, message: "The messages do not match the ModelMessage[] schema.", cause: checked.error });
    }
  };

  try {
    for (;;) {
      // 1. The tool calls of the last step, in order.
      while (state.pending.length > 0) {
        const call = state.pending[0]!;
        let outcome = await runTool(call, env, decision);
        decision = undefined;
        if (ac.signal.aborted) throw new Stop(why!);
        if (outcome.kind === "approval") {
          state.approval = outcome.request;
          emit({ type: "approval_required", id: call.toolCallId, request: outcome.request });
          if (!opts.onApproval) return finish("waiting_approval", null, undefined, outcome.request);
          const approved = await opts.onApproval(outcome.request);
          if (ac.signal.aborted) throw new Stop(why!);
          outcome = await runTool(call, env, { approved: approved === true });
          if (ac.signal.aborted) throw new Stop(why!);
        }
        delete state.approval;
        if (outcome.kind === "final") {
          emit({ type: "tool_result", id: call.toolCallId, tool: call.toolName, status: "ok", result: "accepted" });
          return finish("completed", outcome.value);
        }
        let res: ToolResultJson;
        if (outcome.kind === "invalid_final") {
          state.retries++;
          const left = s.maxRetries - state.retries;
          const text = `final_answer rejected: the answer does not match the output schema:\n${outcome.errors.map((e) => `- ${e}`).join("\n")}`;
          emit({ type: "tool_result", id: call.toolCallId, tool: call.toolName, status: "invalid", result: text, data: { errors: outcome.errors } });
          if (left < 0) throw new Stop({ type: "validation_error", message: `the final answer did not match the output schema after ${s.maxRetries} retries: ${outcome.errors.join("; ")}`, details: { errors: outcome.errors, answer: call.input } });
          res = { type: "tool-result", toolCallId: call.toolCallId, toolName: call.toolName, output: { type: "error-text", value: `${text}\nCall final_answer again with a corrected answer (${left} ${left === 1 ? "retry" : "retries"} left).` } };
        } else {
          if (outcome.kind !== "result") throw new Error("unreachable");
          emit({ type: "tool_result", id: call.toolCallId, tool: call.toolName, status: outcome.status, result: outcome.summary, data: outcome.value });
          res = { type: "tool-result", toolCallId: call.toolCallId, toolName: call.toolName, output: { type: "json", value: outcome.value } };
        }
        state.results.push(res);
        state.pending.shift();
      }
      if (state.results.length > 0) {
        state.messages.push({ role: "tool", content: state.results } as ModelMessage);
        state.results = [];
      }
      if (state.steps >= s.maxSteps) throw new Stop({ type: "max_steps", message: `no final answer after ${s.maxSteps} model calls (maxSteps)` });

      // 2. One model call.
      state.steps++;
      const step = state.steps;
      try {
        validateNew();
      } catch (err) {
        throw new Stop({ type: "model_error", message: `model call failed: ${errorText(err)}` });
      }
      const messages = state.messages;
      // The step's result (response messages, usage) as the SDK hands it to onStepFinish: the same
      // object r.response and r.usage read, without each of those re-reading the whole stream.
      let stepResult: { response: { messages: ModelMessage[] }; usage: { inputTokens?: number; outputTokens?: number; totalTokens?: number } } | undefined;
      const r = streamText({
        model: p.model,
        system,
        messages: messages.slice(0, 1),
        prepareStep: () => ({ messages }),
        tools,
        maxRetries: s.apiRetries,
        abortSignal: ac.signal,
        onError: () => undefined, // errors arrive as stream parts, handled below
        onStepFinish: (result) => {
          stepResult = result;
        },
      });
      let thinking = "";
      let text = "";
      let shown = "";
      const calls: PendingCall[] = [];
      let streamError: unknown;
      for await (const part of r.fullStream) {
        if (part.type === "reasoning-delta") thinking += part.text;
        else if (part.type === "reasoning-end" && thinking.trim()) {
          emit({ type: "thinking", content: thinking.trim(), step });
          thinking = "";
        } else if (part.type === "text-delta") {
          text += part.text;
          shown += part.text;
        } else if (part.type === "text-end" && shown.trim()) {
          emit({ type: "thinking", content: shown.trim(), step });
          shown = "";
        }
        else if (part.type === "tool-call") {
          const c = part as { toolCallId: string; toolName: string; input: unknown; invalid?: boolean; error?: unknown };
          calls.push({ toolCallId: c.toolCallId, toolName: c.toolName, input: c.input, ...(c.invalid ? { invalid: errorText(c.error) } : {}) });
          emit({ type: "tool_call", id: c.toolCallId, tool: c.toolName, args: c.input, step });
        } else if (part.type === "error") streamError = part.error;
      }
      if (ac.signal.aborted) throw new Stop(why!);
      if (streamError !== undefined) throw new Stop({ type: "model_error", message: `model call failed: ${errorText(streamError)}` });
      if (thinking.trim()) emit({ type: "thinking", content: thinking.trim(), step });
      if (shown.trim()) emit({ type: "thinking", content: shown.trim(), step });
      const { response, usage } = stepResult ?? (await r.steps).at(-1)!;
      state.usage.input_tokens += usage.inputTokens ?? 0;
      state.usage.output_tokens += usage.outputTokens ?? 0;
      state.usage.total_tokens += usage.totalTokens ?? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
      state.messages.push(...assistantOnly(response.messages));

      if (calls.length > 0) {
        state.pending = calls;
        continue;
      }
      // No tool call: a model that answered with the JSON as text is taken at its word when it
      // matches; otherwise it is reminded to call final_answer (which counts as a retry).
      const asJson = parseJson(text);
      if (asJson !== undefined) {
        const { checkAnswer } = await import("./output-schema.js");
        const checked = checkAnswer(output, output.wrapped ? { output: asJson } : asJson);
        if (checked.ok) return finish("completed", checked.value);
      }
      state.retries++;
      if (state.retries > s.maxRetries)
        throw new Stop({ type: "validation_error", message: `the model answered without calling final_answer ${state.retries} times`, details: { text } });
      state.messages.push({ role: "user", content: "Call the final_answer tool with the result (matching its input schema); do not answer in plain text." });
    }
  } catch (err) {
    if (err instanceof Stop) return finish("failed", null, err.agentError);
    if (ac.signal.aborted && why) return finish("failed", null, why);
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onCancel);
  }
}

/**
 * The assistant messages of a step. The SDK may add a tool message for calls it could not parse;
 * those calls are answered by the loop instead, so exactly one result goes back per call.
 */
function assistantOnly(messages: ModelMessage[]): ModelMessage[] {
  return messages.filter((m) => m.role === "assistant");
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const e = err as Error & { statusCode?: number; lastError?: Error & { statusCode?: number } };
    const last = e.lastError ?? e;
    const status = last.statusCode ? ` (HTTP ${last.statusCode})` : "";
    return `${last.message || last.name}${status}`;
  }
  return String(err);
}

function parseJson(text: string): unknown {
  const t = text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, "$1");
  if (!t.startsWith("{") && !t.startsWith("[")) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}
