import type { ErrorType, TaskError } from "./types.js";

/** An error that ends a task with a typed `error` (DESIGN §2 error taxonomy). */
export class TaskFailure extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "TaskFailure";
  }
  toTaskError(): TaskError {
    return this.details === undefined
      ? { type: this.type, message: this.message }
      : { type: this.type, message: this.message, details: this.details };
  }
}

/**
 * Bad input from the user (tree file, CLI flag, …). The CLI prints `message` as one line and
 * exits 2; nothing has been written when it is thrown.
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "InputError";
  }
}

/** Something asked for does not exist (exit 1 in the CLI, not-found over the API). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}

/** The store refused a status change the state machine does not allow. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly taskId: string,
    readonly from: string | undefined,
    readonly to: string,
    message?: string,
  ) {
    super(message ?? `task ${taskId}: illegal status transition ${from ?? "?"} → ${to}`);
    this.name = "IllegalTransitionError";
  }
}

export function toTaskError(err: unknown): TaskError {
  if (err instanceof TaskFailure) return err.toTaskError();
  if (err instanceof Error) return { type: "executor_error", message: err.message || err.name };
  return { type: "executor_error", message: String(err) };
}

/** What an executor asks a human to approve (DESIGN §9 approval). */
export interface ApprovalRequest {
  /** The command (or action) awaiting a decision. */
  command: string;
  /** The policy's reasons, shown to the approver. */
  reasons: string[];
  risk: "low" | "medium" | "high";
  /** Where it would run. */
  machine?: string;
}

/**
 * Thrown by an executor to pause its task in `waiting_approval`. The engine stores `request`
 * and `state` (JSON, e.g. the agent's conversation so far) with the task; after
 * `grove tasks approve|reject` the task is claimed again — by any process, even after a restart —
 * and the executor is called with `ctx.resume` carrying the decision and this `state`.
 */
export class ApprovalRequired extends Error {
  constructor(
    readonly request: ApprovalRequest,
    readonly state: unknown,
  ) {
    super(`approval required: ${request.command}`);
    this.name = "ApprovalRequired";
  }
}
