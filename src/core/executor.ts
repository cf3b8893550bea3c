import { z } from "zod";
import type { JsonSchema } from "./validation.js";
import type { TaskError, TaskStatus } from "./types.js";
import type { ApprovalRequest } from "./errors.js";

/** What an executor sees of one dependency (DESIGN §4 data flow). */
export interface DependencyOutcome {
  status: TaskStatus;
  result: unknown;
  error: TaskError | null;
}

export interface ExecutorContext {
  /** Fires on timeout and on cancellation; executors must stop their work when it does. */
  signal: AbortSignal;
  /** Appends a `task.log` event (secrets redacted). */
  log(message: string, data?: Record<string, unknown>): void;
  /** Reports progress in [0, 1]; appends a throttled `task.progress` event. */
  progress(fraction: number, message?: string): void;
  /** Every dependency by task name (children included), `result` null unless it completed. */
  dependencies: Record<string, DependencyOutcome>;
  /** 1 for the first attempt. */
  attempt: number;
  /** Stable across attempts of the same task: use it to make side effects idempotent. */
  idempotencyKey: string;
  task: { id: string; name: string; tree_id: string; owner: string; executor: string };
  tree: { id: string; name: string; inputs: Record<string, unknown> };
  /** Where the task runs ("local" unless a machine is chosen). */
  machine: string;
  /** Runtime settings (e.g. whether URL executors may reach private addresses). */
  settings: RuntimeSettings;
  /**
   * Set when this run continues a task that paused with `ApprovalRequired`: the human's decision
   * and the `state` the executor stored when it paused.
   */
  resume?: ApprovalResume;
}

export interface ApprovalResume {
  decision: "approved" | "rejected";
  request: ApprovalRequest;
  state: unknown;
  /** Who decided (the approver's scope or name), and why, when given. */
  by?: string;
  reason?: string;
}

export interface RuntimeSettings {
  /** Let URL-taking executors reach loopback/private/link-local addresses (DESIGN §8). */
  allowPrivateNetwork: boolean;
  /** Cap on captured output per stream, in bytes. */
  outputCapBytes: number;
}

export const DEFAULT_SETTINGS: RuntimeSettings = {
  allowPrivateNetwork: process.env.GROVE_ALLOW_PRIVATE_NETWORK === "1",
  outputCapBytes: 1024 * 1024,
};

type SchemaLike = z.ZodType | JsonSchema;

/** The normalised executor every layer uses, whatever form the user wrote it in. */
export interface Executor {
  id: string;
  name: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  cancelable: boolean;
  run(inputs: Record<string, unknown>, ctx: ExecutorContext): Promise<unknown>;
}

export interface ExecutorSpec<I extends SchemaLike, O extends SchemaLike | undefined> {
  id: string;
  name?: string;
  description?: string;
  input: I;
  output?: O;
  cancelable?: boolean;
  execute(inputs: InputOf<I>, ctx: ExecutorContext): Promise<OutputOf<O>> | OutputOf<O>;
}

type InputOf<S> = S extends z.ZodType ? z.output<S> : Record<string, any>;
type OutputOf<S> = S extends z.ZodType ? z.input<S> | FailedResult : unknown;

/** The seed's convention for failing without throwing. */
export interface FailedResult {
  status: "failed";
  error: string;
  error_type?: string;
  [k: string]: unknown;
}

function isZod(s: unknown): s is z.ZodType {
  return typeof s === "object" && s !== null && "_zod" in s;
}

export function toJsonSchema(schema: SchemaLike): JsonSchema {
  if (isZod(schema)) {
    const out = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
    delete out.$schema;
    return out;
  }
  return schema;
}

const ID_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export function checkExecutorId(id: unknown): string {
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    throw new Error(`executor id ${JSON.stringify(id)} is invalid (letters, digits, _ . - and a leading letter)`);
  }
  return id;
}

/** The function form of DESIGN §5. */
export function defineExecutor<I extends SchemaLike, O extends SchemaLike | undefined = undefined>(
  spec: ExecutorSpec<I, O>,
): Executor {
  const id = checkExecutorId(spec.id);
  let input: JsonSchema | undefined;
  let output: JsonSchema | undefined;
  return {
    id,
    name: spec.name ?? id,
    description: spec.description ?? "",
    // Converted from zod on first use: every process defines every built-in at start-up, and
    // converting them all cost ~55 ms of CPU there (`grove worker` included), used or not.
    get inputSchema() {
      return (input ??= toJsonSchema(spec.input));
    },
    get outputSchema() {
      return spec.output ? (output ??= toJsonSchema(spec.output)) : undefined;
    },
    cancelable: spec.cancelable ?? false,
    run: async (inputs, ctx) => spec.execute(inputs as InputOf<I>, ctx),
  };
}

/**
 * The class form of seed 002: subclass, set `id`, `name`, `description`, implement `execute()`
 * and `getInputSchema()`. One instance is made per attempt, so instance fields are per-run state;
 * when `cancelable` is true, `cancel()` is called on timeout or cancellation.
 */
export abstract class BaseTask {
  id = "";
  name = "";
  description = "";
  cancelable = false;
  /** Set by the engine before `execute` runs. */
  ctx?: ExecutorContext;
  abstract execute(inputs: Record<string, any>, ctx: ExecutorContext): Promise<unknown> | unknown;
  getInputSchema(): JsonSchema | z.ZodType {
    return { type: "object" };
  }
  getOutputSchema(): JsonSchema | z.ZodType | undefined {
    return undefined;
  }
  async cancel(): Promise<unknown> {
    return { status: "cancelled" };
  }
}

export type BaseTaskClass = new () => BaseTask;

export function isBaseTaskClass(v: unknown): v is BaseTaskClass {
  return typeof v === "function" && v.prototype instanceof BaseTask;
}

export function isExecutor(v: unknown): v is Executor {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as Executor).id === "string" &&
    typeof (v as Executor).run === "function" &&
    // `in`, not typeof: reading it would convert a lazy schema (defineExecutor).
    "inputSchema" in v
  );
}

/** Wraps a BaseTask subclass into the normalised form. */
export function fromClass(Cls: BaseTaskClass): Executor {
  const probe = new Cls();
  const id = checkExecutorId(probe.id);
  const output = probe.getOutputSchema();
  return {
    id,
    name: probe.name || id,
    description: probe.description,
    inputSchema: toJsonSchema(probe.getInputSchema()),
    outputSchema: output ? toJsonSchema(output) : undefined,
    cancelable: probe.cancelable,
    run: async (inputs, ctx) => {
      const instance = new Cls();
      instance.ctx = ctx;
      const onAbort = () => {
        if (instance.cancelable) void Promise.resolve(instance.cancel()).catch(() => undefined);
      };
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      try {
        return await instance.execute(inputs, ctx);
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
