// The agent's public shapes (DESIGN §9, seed 000): run options, the events a run streams, the
// result, and the JSON state a paused run is resumed from.
import type { ModelMessage } from "ai";
import type { z } from "zod";
import type { ApprovalRequest } from "../core/errors.js";
import type { JsonSchema } from "../core/validation.js";
import type { Machine } from "../machines/types.js";
import type { Restrictions } from "./policy/types.js";
import type { ModelOption } from "./model.js";

export const APPROVAL_MODES = ["never", "on_risk", "always"] as const;
/**
 * When a human must approve before something runs. A policy `ask` (restrictions.require_approval)
 * always needs approval; "on_risk" adds commands that write, delete or escalate privileges;
 * "always" adds every command and file write.
 */
export type ApprovalMode = (typeof APPROVAL_MODES)[number];

export interface AgentRunOptions<S extends z.ZodType | JsonSchema | undefined = undefined> {
  /** The goal, in natural language. */
  prompt: string;
  /** The shape of `result.output`: a zod type (typed output) or a JSON Schema. */
  outputSchema?: S;
  /** Facts given to the model along with the prompt (serialised as JSON). */
  context?: Record<string, unknown>;
  /** Where commands run (default: this host). */
  machine?: Machine;
  /** Working directory for commands and relative paths (default: the process's). */
  cwd?: string;
  restrictions?: Restrictions;
  approval?: ApprovalMode;
  /**
   * Decides an approval inline. Without it, a run that needs approval ends with status
   * "waiting_approval" and a `state` that `resumeAgent` continues.
   */
  onApproval?: (request: ApprovalRequest) => Promise<boolean> | boolean;
  /** Times a final answer that does not match the schema is re-asked (default 3). */
  maxRetries?: number;
  /** Whole-run limit in milliseconds: aborts the model call and the running command. */
  timeout?: number;
  /** Model calls at most (default 30). */
  maxSteps?: number;
  /** `provider:model` (default GROVE_MODEL) or a model object. */
  model?: ModelOption;
  /** Per-command limit in milliseconds (default 120000, never beyond `timeout`). */
  commandTimeout?: number;
  /** Bytes of stdout/stderr kept per command and shown to the model (default 16384). */
  maxOutputBytes?: number;
  /** Retries of a failed model call (429, 5xx, network), with backoff (default 3). */
  apiRetries?: number;
  /** Cancels the run (status "failed", error type "cancelled"). */
  signal?: AbortSignal;
  /** Environment used to resolve the model (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export type OutputOf<S> = S extends z.ZodType ? z.output<S> : S extends undefined ? DefaultOutput : any;

/** The output when no schema is given. */
export interface DefaultOutput {
  success: boolean;
  summary: string;
}

export interface PlannedAction {
  tool: "run_command" | "write_file";
  /** The command, or `write_file PATH`. */
  command: string;
  cwd?: string;
  path?: string;
  /** Why it was not executed (the policy's dry_run reasons). */
  reasons: string[];
}

export interface CommandRecord {
  command: string;
  cwd?: string;
  exit_code: number | null;
  timed_out: boolean;
  duration_ms: number;
  sandboxed: boolean;
  /** "approved" when a human approved it. */
  approved?: boolean;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export type AgentErrorType = "timeout" | "cancelled" | "validation_error" | "max_steps" | "model_error" | "input_error";

export interface AgentError {
  type: AgentErrorType;
  message: string;
  details?: unknown;
}

export type AgentStatus = "completed" | "failed" | "waiting_approval";

export interface AgentResult<T = unknown> {
  status: AgentStatus;
  output: T | null;
  error?: AgentError;
  planned_actions: PlannedAction[];
  commands: CommandRecord[];
  /** Model calls made. */
  steps: number;
  usage: Usage;
  model: string;
  /** With status "waiting_approval": what awaits a decision, and the state to resume from. */
  approval?: ApprovalRequest;
  state?: AgentState;
}

export type ToolStatus = "ok" | "error" | "denied" | "simulated" | "rejected" | "invalid";

export type AgentEvent =
  | { type: "thinking"; content: string; step: number }
  | { type: "tool_call"; id: string; tool: string; args: unknown; step: number }
  | { type: "output"; id: string; stream: "stdout" | "stderr"; chunk: string }
  | { type: "tool_result"; id: string; tool: string; status: ToolStatus; result: string; data?: unknown }
  | { type: "approval_required"; id: string; request: ApprovalRequest }
  | { type: "result"; status: AgentStatus; output: unknown; result: AgentResult }
  | { type: "error"; error: AgentError; result: AgentResult };

/** A tool call of the last model step not answered yet; the first may be awaiting approval. */
export interface PendingCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
  /** Set when the call could not be parsed (malformed JSON arguments). */
  invalid?: string;
}

/** The run settings a resumed run needs (JSON: no machine, model object or zod type). */
export interface StateSettings {
  prompt: string;
  outputSchema: JsonSchema;
  /** The schema given to the model was the user's wrapped in {output: …} (not an object). */
  wrapped: boolean;
  context?: Record<string, unknown>;
  restrictions: Restrictions;
  approval: ApprovalMode;
  maxRetries: number;
  maxSteps: number;
  model?: string;
  cwd: string;
  commandTimeout: number;
  maxOutputBytes: number;
  apiRetries: number;
  timeout?: number;
  machine: string;
}

/** Everything needed to continue a run later, even in another process (JSON only). */
export interface AgentState {
  version: 1;
  settings: StateSettings;
  messages: ModelMessage[];
  pending: PendingCall[];
  /** Tool results of the last step so far (sent with the next model call). */
  results: ToolResultJson[];
  planned_actions: PlannedAction[];
  commands: CommandRecord[];
  usage: Usage;
  steps: number;
  /** Final answers rejected so far. */
  retries: number;
  /** The approval awaited (the first pending call). */
  approval?: ApprovalRequest;
}

export interface ToolResultJson {
  type: "tool-result";
  toolCallId: string;
  toolName: string;
  output: { type: "text"; value: string } | { type: "json"; value: any } | { type: "error-text"; value: string };
}
