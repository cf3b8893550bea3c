// The `agent` executor (DESIGN §9): a task whose work is an agent run. A command needing approval
// pauses the task by throwing ApprovalRequired with the run's JSON state; when a human decides,
// the engine calls the executor again with `ctx.resume` and the run continues from that state.
// This module stays light (zod only): the loop, the AI SDK and the policy load when a task runs.
import { z } from "zod";
import { ApprovalRequired, InputError, TaskFailure } from "../core/errors.js";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import type { ErrorType } from "../core/types.js";
import type { Machine } from "../machines/types.js";
import { Restrictions } from "./policy/types.js";
import type { AgentErrorType, AgentEvent, AgentResult, AgentState } from "./types.js";

export const AgentInput = z.strictObject({
  prompt: z.string().min(1).describe("the goal, in natural language"),
  output_schema: z.record(z.string(), z.unknown()).optional().describe("JSON Schema of the output (default {success, summary})"),
  context: z.record(z.string(), z.unknown()).optional().describe("facts given to the model with the prompt"),
  restrictions: Restrictions.optional(),
  approval: z.enum(["never", "on_risk", "always"]).default("never").describe("when a human must approve a command (a policy ask always does)"),
  max_retries: z.number().int().min(0).default(3).describe("re-asks of a final answer that does not match output_schema"),
  timeout_ms: z.number().int().positive().optional().describe("whole-run limit: aborts the model call and the running command"),
  max_steps: z.number().int().positive().default(30).describe("model calls at most"),
  model: z.string().optional().describe("provider:model (default GROVE_MODEL)"),
  machine: z.string().optional().describe("where commands run (default the task's machine, local)"),
  cwd: z.string().optional().describe("working directory of the commands"),
  command_timeout_ms: z.number().int().positive().optional().describe("per-command limit"),
});
export type AgentInput = z.output<typeof AgentInput>;

export interface AgentExecutorOptions {
  /** Finds a machine by name for the task's owner; by default only "local" exists. */
  resolveMachine?: (name: string, owner: string) => Promise<Machine>;
}

const ERROR_TYPES: Record<AgentErrorType, ErrorType> = {
  timeout: "timeout",
  cancelled: "cancelled",
  validation_error: "executor_error", // the model's answer, not the task's input, was invalid
  max_steps: "executor_error",
  model_error: "executor_error",
  input_error: "validation_error",
};

async function defaultMachine(name: string): Promise<Machine> {
  if (name !== "local") throw new TaskFailure("executor_error", `machine "${name}" is not known (only "local" is)`);
  return (await import("../machines/local.js")).localMachine;
}

export function makeAgentExecutor(opts: AgentExecutorOptions = {}): Executor {
  const resolveMachine = opts.resolveMachine ?? defaultMachine;
  return defineExecutor({
    id: "agent",
    name: "AI agent",
    description:
      "Reaches a goal by running shell commands on a machine under a command policy (restrictions, dry run, approvals); " +
      "returns {output, planned_actions, commands, steps, usage, model}.",
    input: AgentInput,
    cancelable: true,
    async execute(inputs, ctx) {
      const { runAgent, resumeAgent } = await import("./run.js");
      const machine = await resolveMachine(inputs.machine ?? ctx.machine ?? "local", ctx.task.owner);
      const onEvent = (e: AgentEvent) => logEvent(ctx, e);
      let result: AgentResult;
      try {
        if (ctx.resume) {
          const decision = { approved: ctx.resume.decision === "approved", ...(ctx.resume.reason ? { reason: ctx.resume.reason } : {}) };
          result = await resumeAgent(ctx.resume.state as AgentState, decision, { machine, signal: ctx.signal, onEvent, timeout: inputs.timeout_ms });
        } else {
          result = await runAgent({
            prompt: inputs.prompt,
            outputSchema: inputs.output_schema,
            context: inputs.context,
            restrictions: inputs.restrictions,
            approval: inputs.approval,
            maxRetries: inputs.max_retries,
            maxSteps: inputs.max_steps,
            timeout: inputs.timeout_ms,
            model: inputs.model,
            machine,
            cwd: inputs.cwd,
            commandTimeout: inputs.command_timeout_ms,
            signal: ctx.signal,
            onEvent,
          });
        }
      } catch (err) {
        if (err instanceof InputError) throw new TaskFailure("validation_error", err.message);
        throw err;
      }
      if (result.status === "waiting_approval") throw new ApprovalRequired(result.approval!, result.state);
      const { state: _state, approval: _approval, ...rest } = result;
      if (result.status === "failed") {
        const e = result.error!;
        throw new TaskFailure(ERROR_TYPES[e.type], e.message, { agent_error: e.type, ...(e.details !== undefined ? { details: e.details } : {}), result: rest });
      }
      return rest;
    },
  });
}

/** The default `agent` executor: local machine only. */
export const agent = makeAgentExecutor();

/** Agent events become task.log events (data.agent = the event type); command output is logged per chunk. */
function logEvent(ctx: ExecutorContext, e: AgentEvent): void {
  try {
    switch (e.type) {
      case "thinking":
        return ctx.log(e.content, { agent: "thinking", step: e.step });
      case "tool_call":
        return ctx.log(`${e.tool} ${JSON.stringify(e.args)}`, { agent: "tool_call", id: e.id, tool: e.tool, args: e.args });
      case "output":
        return ctx.log(e.chunk.replace(/\n$/, ""), { agent: "output", id: e.id, stream: e.stream });
      case "tool_result":
        return ctx.log(`${e.tool} ${e.status}: ${e.result.slice(0, 500)}`, { agent: "tool_result", id: e.id, tool: e.tool, status: e.status });
      case "approval_required":
        return ctx.log(`approval required: ${e.request.command}`, { agent: "approval_required", request: e.request });
      case "result":
        return ctx.log(`agent ${e.status}`, { agent: "result", status: e.status });
      case "error":
        return ctx.log(`agent failed: ${e.error.message}`, { agent: "error", error: e.error });
    }
  } catch {
    // Logging never breaks the run.
  }
}
