import { expect } from "vitest";
import { Grove } from "../../../src/client/local.js";
import { TaskFailure } from "../../../src/core/errors.js";
import type { Executor, ExecutorContext } from "../../../src/core/executor.js";
import { validate } from "../../../src/core/validation.js";

/** A context as the engine builds it, for calling an executor directly. */
export function makeCtx(opts: { allowPrivateNetwork?: boolean; outputCapBytes?: number; controller?: AbortController } = {}) {
  const controller = opts.controller ?? new AbortController();
  const logs: { message: string; data?: Record<string, unknown> }[] = [];
  const ctx: ExecutorContext = {
    signal: controller.signal,
    log: (message, data) => void logs.push({ message, data }),
    progress: () => undefined,
    dependencies: {},
    attempt: 1,
    idempotencyKey: "tree-1:task-1",
    task: { id: "task-1", name: "t", tree_id: "tree-1", owner: "test", executor: "x" },
    tree: { id: "tree-1", name: "t", inputs: {} },
    machine: "local",
    settings: { allowPrivateNetwork: opts.allowPrivateNetwork ?? true, outputCapBytes: opts.outputCapBytes ?? 1024 * 1024 },
  };
  return { ctx, logs, controller };
}

/** Validates like the engine does (defaults applied), runs, and checks the output schema. */
export async function runExecutor<T>(ex: Executor, inputs: Record<string, unknown>, ctx: ExecutorContext): Promise<T> {
  const v = validate(ex.inputSchema, inputs);
  if (!v.ok) throw new Error(`invalid inputs: ${JSON.stringify(v.issues)}`);
  const out = await ex.run(v.value, ctx);
  if (ex.outputSchema) {
    const o = validate(ex.outputSchema, out);
    if (!o.ok) throw new Error(`output does not match the output schema: ${JSON.stringify(o.issues)}`);
  }
  return out as T;
}

export async function failureOf(p: Promise<unknown>): Promise<TaskFailure> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TaskFailure);
    return err as TaskFailure;
  }
  throw new Error("expected a failure");
}

/**
 * Runs one task through the real engine (tree validation, input schema, runner) in memory, the
 * way `grove run` does. Tree-validation errors (bad inputs) are thrown as InputError.
 */
export async function runTask(executor: string, inputs: Record<string, unknown>, opts: { allowPrivateNetwork?: boolean } = {}) {
  const grove = await Grove.local({ db: ":memory:", settings: { allowPrivateNetwork: opts.allowPrivateNetwork ?? false } });
  try {
    const result = await grove.run({ name: "t", tasks: [{ name: "task", executor, inputs }] });
    const task = result.tasks.find((t) => t.name === "task")!;
    return { status: task.status, result: task.result as any, error: task.error };
  } finally {
    await grove.close();
  }
}
