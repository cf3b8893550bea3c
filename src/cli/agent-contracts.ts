// The request and response contracts of `grove agent run` (zod types, in the shape of
// contracts.ts). Imports only zod, so the CLI's contract table stays light.
import { z } from "zod";
import { globals, type Contract } from "./contract-parts.js";

const AgentErrorJson = z.object({
  type: z.enum(["timeout", "cancelled", "validation_error", "max_steps", "model_error", "input_error"]),
  message: z.string(),
  details: z.unknown().optional(),
});

const ApprovalRequestJson = z.object({
  command: z.string(),
  reasons: z.array(z.string()),
  risk: z.enum(["low", "medium", "high"]),
  machine: z.string().optional(),
});

export const AgentResultJson = z.object({
  status: z.enum(["completed", "failed", "waiting_approval"]),
  output: z.unknown().describe("the final answer, matching --output-schema (null unless completed)"),
  error: AgentErrorJson.optional(),
  planned_actions: z.array(
    z.object({ tool: z.enum(["run_command", "write_file"]), command: z.string(), cwd: z.string().optional(), path: z.string().optional(), reasons: z.array(z.string()) }),
  ),
  commands: z.array(
    z.object({
      command: z.string(),
      cwd: z.string().optional(),
      exit_code: z.number().int().nullable(),
      timed_out: z.boolean(),
      duration_ms: z.number(),
      sandboxed: z.boolean(),
      approved: z.boolean().optional(),
    }),
  ),
  steps: z.number().int(),
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number(), total_tokens: z.number() }),
  model: z.string(),
  approval: ApprovalRequestJson.optional(),
  state: z.unknown().optional().describe("with waiting_approval: the JSON state a resume continues from"),
});

export const AgentEventJson = z.discriminatedUnion("type", [
  z.object({ type: z.literal("thinking"), content: z.string(), step: z.number().int() }),
  z.object({ type: z.literal("tool_call"), id: z.string(), tool: z.string(), args: z.unknown(), step: z.number().int() }),
  z.object({ type: z.literal("output"), id: z.string(), stream: z.enum(["stdout", "stderr"]), chunk: z.string() }),
  z.object({
    type: z.literal("tool_result"),
    id: z.string(),
    tool: z.string(),
    status: z.enum(["ok", "error", "denied", "simulated", "rejected", "invalid"]),
    result: z.string(),
    data: z.unknown().optional(),
  }),
  z.object({ type: z.literal("approval_required"), id: z.string(), request: ApprovalRequestJson }),
  z.object({ type: z.literal("result"), status: z.enum(["completed", "waiting_approval"]), output: z.unknown(), result: AgentResultJson }),
  z.object({ type: z.literal("error"), error: AgentErrorJson, result: AgentResultJson }),
]);

export const AGENT_CONTRACTS: Record<string, Contract> = {
  "agent run": {
    request: z.object({
      ...globals,
      args: z.tuple([z.string().min(1)]).describe("<prompt>"),
      model: z.string().regex(/^[a-z-]+:.+/, "expected provider:model").optional(),
      machine: z.string().optional(),
      outputSchema: z.string().optional().describe("JSON Schema as JSON, or @FILE"),
      context: z.string().optional().describe("a JSON object, or @FILE"),
      restrictions: z.string().optional().describe("restrictions as JSON, or @FILE"),
      approval: z.enum(["never", "on_risk", "always"]),
      maxRetries: z.number().int().min(0, "must be a non-negative integer").optional(),
      maxSteps: z.number().int().positive().optional(),
      timeout: z.string().regex(/^\d+(ms|s|m|h)?$/, "expected a duration such as 30s, 5m, 500ms").optional(),
      cwd: z.string().optional(),
    }),
    response: AgentEventJson.describe("with --json: one JSON line per event; the last is result or error"),
  },
};
