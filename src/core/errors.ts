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
