import { TaskFailure, toTaskError, type ApprovalRequest } from "../core/errors.js";
import { DEFAULT_SETTINGS, type DependencyOutcome, type Executor, type ExecutorContext, type RuntimeSettings } from "../core/executor.js";
import type { ExecutorRegistry } from "../core/registry.js";
import { envSecret, redact, resolveTemplates } from "../core/templates.js";
import { ERROR_TYPES, type ErrorType, type NewEvent, type TaskError, type Tree } from "../core/types.js";
import { describeIssues, validate } from "../core/validation.js";
import type { ClaimedTask, Outcome } from "../store/store.js";
import { backoffDelay } from "./backoff.js";

/** After an abort, how long an executor may take to wind down before the attempt is abandoned. */
export const ABORT_GRACE_MS = 2_500;

/** Errors worth another attempt; a bad input stays bad however often it is retried. */
const RETRYABLE_ERRORS: readonly ErrorType[] = ["executor_error", "exit_code", "timeout"];

export interface AttemptInput {
  /** With `resume` when the task paused for approval and was decided since. */
  task: ClaimedTask;
  tree: Pick<Tree, "id" | "name" | "inputs">;
  dependencies: Record<string, DependencyOutcome>;
  registry: ExecutorRegistry;
  workerId: string;
  settings?: RuntimeSettings;
  /** How the runner stops this attempt (cancellation, a lost lease, shutdown). */
  control: AttemptControl;
  emit: (e: NewEvent) => void;
  now?: () => number;
}

/**
 * Stops one attempt: the runner aborts it (cancelled elsewhere, lease lost, shutting down) and so
 * does the attempt's own timeout; the first reason wins. The executor's AbortSignal is made on
 * first use — an AbortController and its listeners cost more than a whole no-op task's share of
 * a SQLite transaction (measured: ~15 µs of ~150 µs per task in drain-sqlite), and executors that
 * finish without looking at `ctx.signal` never need one.
 */
export class AttemptControl {
  private controller: AbortController | undefined;
  private why: TaskFailure | undefined;
  /** Called once, on abort; set by the attempt to start the abandon grace period. */
  onAbort: (() => void) | undefined;

  get aborted(): boolean {
    return this.why !== undefined;
  }

  get reason(): TaskFailure {
    return this.why ?? new TaskFailure("cancelled", "cancelled");
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.why) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  abort(reason: TaskFailure): void {
    if (this.why) return;
    this.why = reason;
    this.controller?.abort(reason);
    const hook = this.onAbort;
    this.onAbort = undefined;
    hook?.();
  }
}

/** Runs one attempt of a task and turns whatever happens into an Outcome for the store. */
export async function runAttempt(a: AttemptInput): Promise<Outcome> {
  const { task } = a;
  const now = a.now ?? Date.now;
  const base = { taskId: task.id, workerId: a.workerId };
  let secrets = new Set<string>();
  let resolvedInputs: Record<string, unknown> | undefined;
  const fail = (err: unknown): Outcome => {
    const error = redact(toTaskError(err), secrets);
    if (error.type === "cancelled") return { ...base, kind: "cancelled", error, resolvedInputs };
    const retryable = RETRYABLE_ERRORS.includes(error.type) && task.attempts < task.retry.max_attempts;
    const retryAt = retryable ? now() + backoffDelay(task.retry, task.attempts) : undefined;
    return { ...base, kind: "failed", error, retryAt, resolvedInputs };
  };

  const executor = a.registry.get(task.executor);
  if (!executor) return fail(new TaskFailure("executor_not_found", `executor "${task.executor}" is not registered in this process`));

  let inputs: Record<string, unknown>;
  try {
    const resolved = resolveTemplates(task.inputs, { tasks: a.dependencies, tree: { inputs: a.tree.inputs }, secret: envSecret });
    secrets = resolved.secrets;
    const checked = validate(executor.inputSchema, resolved.value);
    if (!checked.ok) throw new TaskFailure("validation_error", `inputs: ${describeIssues(checked.issues)}`, { issues: checked.issues });
    inputs = checked.value;
    resolvedInputs = redact(inputs, secrets);
  } catch (err) {
    return fail(err);
  }

  const control = a.control;
  const timer =
    task.timeout_ms !== null
      ? setTimeout(() => control.abort(new TaskFailure("timeout", `timed out after ${task.timeout_ms} ms`)), task.timeout_ms)
      : undefined;

  let lastProgress = 0;
  const ctx: ExecutorContext = {
    get signal() {
      return control.signal;
    },
    log: (message, data) => a.emit({ tree_id: task.tree_id, task_id: task.id, type: "task.log", data: redact({ message, ...data }, secrets) }),
    progress: (fraction, message) => {
      const t = now();
      if (t - lastProgress < 100 && fraction < 1) return; // throttled: progress is for humans
      lastProgress = t;
      a.emit({ tree_id: task.tree_id, task_id: task.id, type: "task.progress", data: redact({ progress: Math.max(0, Math.min(1, fraction)), message }, secrets) });
    },
    dependencies: a.dependencies,
    attempt: task.attempts,
    idempotencyKey: task.id,
    task: { id: task.id, name: task.name, tree_id: task.tree_id, owner: task.owner, executor: task.executor },
    tree: { id: a.tree.id, name: a.tree.name, inputs: a.tree.inputs },
    machine: "local",
    settings: a.settings ?? DEFAULT_SETTINGS,
  };
  if (task.resume) ctx.resume = task.resume;

  try {
    const value = await settleOrAbandon(executor.run(inputs, ctx), control);
    return interpret(value, executor, base, resolvedInputs, secrets, fail);
  } catch (err) {
    if (control.aborted) return fail(control.reason);
    // A pause, not a failure: no retry, no attempt budget spent on it beyond this start.
    const approval = approvalOf(err);
    if (approval) return { ...base, kind: "waiting_approval", request: redact(approval.request, secrets), state: redact(approval.state, secrets), resolvedInputs };
    return fail(err);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * The request and state of an ApprovalRequired thrown by the executor, normalised. Matched by
 * name and shape rather than `instanceof`: an executor module may bundle its own copy of grove.
 */
export function approvalOf(err: unknown): { request: ApprovalRequest; state: unknown } | undefined {
  if (!(err instanceof Error) || err.name !== "ApprovalRequired") return undefined;
  const e = err as Error & { request?: Partial<ApprovalRequest>; state?: unknown };
  const r = e.request;
  if (!r || typeof r !== "object" || typeof r.command !== "string") return undefined;
  const request: ApprovalRequest = {
    command: r.command,
    reasons: Array.isArray(r.reasons) ? r.reasons.map(String) : [],
    risk: r.risk === "low" || r.risk === "medium" || r.risk === "high" ? r.risk : "high",
  };
  if (typeof r.machine === "string") request.machine = r.machine;
  return { request, state: e.state ?? null };
}

/**
 * Resolves with the executor's result, or rejects with the abort reason once the executor had
 * ABORT_GRACE_MS to stop after an abort — an executor that ignores its signal cannot hold a
 * worker slot forever.
 */
function settleOrAbandon<T>(work: Promise<T>, control: AttemptControl): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    const abandon = () => {
      grace = setTimeout(() => reject(control.reason), ABORT_GRACE_MS);
    };
    if (control.aborted) abandon();
    else control.onAbort = abandon;
    const settle = () => {
      if (grace) clearTimeout(grace);
      control.onAbort = undefined;
    };
    work.then(
      (v) => {
        settle();
        if (control.aborted) reject(control.reason);
        else resolve(v);
      },
      (e: unknown) => {
        settle();
        reject(control.aborted ? control.reason : e);
      },
    );
  });
}

/** Applies the seed's result convention and the output schema. */
function interpret(
  value: unknown,
  executor: Executor,
  base: { taskId: string; workerId: string },
  resolvedInputs: Record<string, unknown> | undefined,
  secrets: Set<string>,
  fail: (err: unknown) => Outcome,
): Outcome {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if (v.status === "failed") {
      const declared = String(v.error_type ?? "");
      const type: ErrorType = (ERROR_TYPES as readonly string[]).includes(declared) ? (declared as ErrorType) : "executor_error";
      const message = typeof v.error === "string" ? v.error : JSON.stringify(v.error ?? "executor reported failure");
      const details: Record<string, unknown> = { ...v };
      delete details.status;
      delete details.error;
      const err: TaskError = { type, message, details };
      return fail(new TaskFailure(err.type, err.message, err.details));
    }
    if (v.status === "cancelled") return fail(new TaskFailure("cancelled", String(v.message ?? "the executor cancelled the task")));
  }
  if (executor.outputSchema) {
    const checked = validate(executor.outputSchema, value ?? {});
    if (!checked.ok) return fail(new TaskFailure("validation_error", `output: ${describeIssues(checked.issues)}`, { issues: checked.issues }));
  }
  return { ...base, kind: "completed", result: redact(value ?? null, secrets), resolvedInputs };
}
