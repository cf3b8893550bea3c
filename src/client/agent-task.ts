// An agent run that ran as a task (`agent.run` of grove serve, an `agent` task of a tree), read
// back as the AgentResult that runAgent returns: a completed task's result is the run's result; a
// failed one carries it in error.details.result (when the run itself failed); a task waiting for
// approval is a run with status "waiting_approval". Light: types only.
import type { ApprovalRequest } from "../core/errors.js";
import type { TaskError, TaskStatus } from "../core/types.js";
import type { AgentError, AgentResult } from "../agent/types.js";

export interface AgentTaskView {
  status: TaskStatus;
  result: unknown;
  error: TaskError | null;
}

const EMPTY = { planned_actions: [], commands: [], steps: 0, usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 }, model: "" };

/** The AgentResult of an agent task; `approval` is the pending request when it waits for one. */
export function agentResultOfTask(task: AgentTaskView, approval?: ApprovalRequest): AgentResult {
  if (task.status === "completed") return { ...EMPTY, ...(task.result as AgentResult) };
  if (task.status === "waiting_approval") return { ...EMPTY, status: "waiting_approval", output: null, ...(approval ? { approval } : {}) };
  if (task.status === "failed" || task.status === "cancelled" || task.status === "skipped") {
    const e = task.error;
    const details = (e?.details ?? {}) as { agent_error?: AgentError["type"]; details?: unknown; result?: AgentResult };
    const type = (details.agent_error ?? (e?.type === "validation_error" ? "input_error" : e?.type === "timeout" || e?.type === "cancelled" ? e.type : (e?.type ?? "cancelled"))) as AgentError["type"];
    const error: AgentError = { type, message: e?.message ?? `the task was ${task.status}`, ...(details.details !== undefined ? { details: details.details } : {}) };
    return { ...EMPTY, ...(details.result ?? {}), status: "failed", output: null, error };
  }
  return { ...EMPTY, status: "failed", output: null, error: { type: "cancelled", message: `the run stopped before its end (task ${task.status})` } };
}
