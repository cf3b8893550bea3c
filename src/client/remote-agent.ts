// `Grove.remote(…).agent`: the agent run by a `grove serve`, with the signature of Grove.local's
// `grove.agent` (src/client/agent.ts). A run is an `agent` task on the server: run() starts it
// (agent.run with stream: true), follows the task's SSE stream (reconnecting with Last-Event-ID)
// and reads the task back at its end, so the AbortSignal cancels the run itself (tasks.cancel),
// not just the HTTP request. A zod `outputSchema` is sent as JSON Schema and parses the answer,
// so `result.output` is typed.
import type { z } from "zod";
import type { AgentEvent, AgentResult, AgentRunOptions, OutputOf } from "../agent/types.js";
import type { ApprovalRequest } from "../core/errors.js";
import { toJsonSchema } from "../core/executor.js";
import type { GroveEvent, TaskError, TaskStatus } from "../core/types.js";
import type { JsonSchema } from "../core/validation.js";
import { agentResultOfTask } from "./agent-task.js";
import type { CallOptions, RemoteGrove } from "./remote.js";

/** The options of Grove.local's agent.run that travel over the API (machine and model by name). */
export type RemoteAgentOptions<S extends z.ZodType | JsonSchema | undefined = undefined> = Pick<
  AgentRunOptions<S>,
  "prompt" | "outputSchema" | "context" | "cwd" | "restrictions" | "approval" | "onApproval" | "maxRetries" | "timeout" | "maxSteps" | "commandTimeout" | "signal"
> & {
  /** A machine name, resolved by the server in the caller's scope ("local" = the server's host). */
  machine?: string;
  /** `provider:model` (default: the server's GROVE_MODEL). */
  model?: string;
  /** Called with every event, as runStream yields them. */
  onEvent?: (e: RemoteAgentEvent) => void;
};

/** An agent event, with the id of the task running it (to approve, reject or cancel it). */
export type RemoteAgentEvent = AgentEvent & { task_id: string };

/** The result of a remote run: the AgentResult, and the task and tree that ran it. */
export type RemoteAgentResult<T> = AgentResult<T> & { task_id: string; tree_id: string };

const isZod = (s: unknown): s is z.ZodType => typeof s === "object" && s !== null && "_zod" in s;

export class RemoteAgent {
  constructor(private readonly remote: RemoteGrove) {}

  /** Runs the agent on the server to its end (or to an approval without `onApproval`). */
  async run<S extends z.ZodType | JsonSchema | undefined = undefined>(opts: RemoteAgentOptions<S>): Promise<RemoteAgentResult<OutputOf<S>>> {
    let last: RemoteAgentEvent | undefined;
    for await (const e of this.runStream(opts)) last = e;
    if (!last || (last.type !== "result" && last.type !== "error")) throw new Error("agent.run: the event stream ended without a result");
    return last.result as RemoteAgentResult<OutputOf<S>>;
  }

  /**
   * The run as an async iterator of thinking | tool_call | output | tool_result | approval_required |
   * result | error events (each with `task_id`). Without `onApproval`, a command needing approval
   * ends the stream with a `result` of status "waiting_approval" (decide it with resume()).
   */
  runStream<S extends z.ZodType | JsonSchema | undefined = undefined>(opts: RemoteAgentOptions<S>): AsyncIterable<RemoteAgentEvent> {
    const start = () => this.remote.call<{ task_id: string; tree_id: string }>("agent.run", { ...paramsOf(opts), stream: true }, { signal: opts.signal });
    const follow = (taskId: string, treeId: string) => this.follow<S>(taskId, treeId, opts);
    return {
      async *[Symbol.asyncIterator]() {
        const started = await start();
        yield* follow(started.task_id, started.tree_id);
      },
    };
  }

  /**
   * Continues a run that ended "waiting_approval" with a decision (tasks.approve / tasks.reject),
   * and follows it to its end.
   */
  async resume<S extends z.ZodType | JsonSchema | undefined = undefined>(
    taskId: string,
    decision: boolean | { approved: boolean; reason?: string },
    opts: Pick<RemoteAgentOptions<S>, "outputSchema" | "onApproval" | "onEvent" | "signal"> = {},
  ): Promise<RemoteAgentResult<OutputOf<S>>> {
    const d = typeof decision === "boolean" ? { approved: decision } : decision;
    const task = await this.remote.getTask(taskId, { signal: opts.signal });
    const after = await this.lastSeq(taskId, opts.signal);
    await this.remote.call(d.approved ? "tasks.approve" : "tasks.reject", { id: taskId, reason: d.reason }, { signal: opts.signal });
    let last: RemoteAgentEvent | undefined;
    for await (const e of this.follow<S>(taskId, task.tree_id, opts, after)) last = e;
    if (!last || (last.type !== "result" && last.type !== "error")) throw new Error("agent.resume: the event stream ended without a result");
    return last.result as RemoteAgentResult<OutputOf<S>>;
  }

  /** The result of a run (by its task id) as it stands. */
  async result<S extends z.ZodType | JsonSchema | undefined = undefined>(taskId: string, opts: Pick<RemoteAgentOptions<S>, "outputSchema"> & CallOptions = {}): Promise<RemoteAgentResult<OutputOf<S>>> {
    return (await this.read(taskId, opts.outputSchema, opts.signal)) as RemoteAgentResult<OutputOf<S>>;
  }

  private async *follow<S extends z.ZodType | JsonSchema | undefined>(
    taskId: string,
    treeId: string,
    opts: Pick<RemoteAgentOptions<S>, "outputSchema" | "onApproval" | "onEvent" | "signal">,
    after = 0,
  ): AsyncGenerator<RemoteAgentEvent> {
    const emit = (e: AgentEvent): RemoteAgentEvent => {
      const out = { ...e, task_id: taskId } as RemoteAgentEvent;
      opts.onEvent?.(out);
      return out;
    };
    const cancel = () => void this.remote.cancel(taskId, "cancelled by the client").catch(() => undefined);
    opts.signal?.addEventListener("abort", cancel, { once: true });
    try {
      if (opts.signal?.aborted) cancel();
      let paused = false;
      let seq = after;
      for await (const ge of this.remote.events(taskId, { task: true, after, signal: opts.signal })) {
        seq = ge.seq;
        if (ge.type === "task.waiting_approval") {
          paused = true;
          break;
        }
        const e = agentEventOf(ge);
        if (e) yield emit(e);
      }
      if (paused) {
        const waiting = await this.read(taskId, opts.outputSchema, opts.signal);
        if (opts.onApproval && waiting.status === "waiting_approval" && waiting.approval) {
          const approved = (await opts.onApproval(waiting.approval)) === true;
          await this.remote.call(approved ? "tasks.approve" : "tasks.reject", { id: taskId, reason: approved ? undefined : "rejected by onApproval" }, { signal: opts.signal });
          yield* this.follow(taskId, treeId, opts, seq);
          return;
        }
        yield emit({ type: "result", status: waiting.status, output: null, result: waiting });
        return;
      }
      const final = await this.read(taskId, opts.outputSchema, opts.signal);
      yield emit(final.status === "failed" ? { type: "error", error: final.error!, result: final } : { type: "result", status: final.status, output: final.output, result: final });
    } finally {
      opts.signal?.removeEventListener("abort", cancel);
    }
  }

  /** The seq of the task's newest event (paging through its log). */
  private async lastSeq(taskId: string, signal?: AbortSignal): Promise<number> {
    let after = 0;
    for (;;) {
      const page = await this.remote.logs(taskId, { after, limit: 10_000, signal });
      if (page.length === 0) return after;
      after = page.at(-1)!.seq;
      if (page.length < 10_000) return after;
    }
  }

  private async read(taskId: string, schema: unknown, signal?: AbortSignal): Promise<RemoteAgentResult<unknown>> {
    const task = await this.remote.call<{ tree_id: string; status: TaskStatus; result: unknown; error: TaskError | null }>("tasks.get", { id: taskId }, { signal });
    let approval: ApprovalRequest | undefined;
    if (task.status === "waiting_approval") {
      const list = await this.remote.call<{ task_id: string; command: string; reasons: string[]; risk: ApprovalRequest["risk"]; machine: string | null }[]>("tasks.approvals", { tree_id: task.tree_id }, { signal });
      const a = list.find((x) => x.task_id === taskId);
      if (a) approval = { command: a.command, reasons: a.reasons, risk: a.risk, ...(a.machine ? { machine: a.machine } : {}) };
    }
    const result = { ...agentResultOfTask(task, approval), task_id: taskId, tree_id: task.tree_id } as RemoteAgentResult<unknown>;
    if (result.status === "completed" && isZod(schema)) {
      const parsed = schema.safeParse(result.output);
      if (!parsed.success) {
        return { ...result, status: "failed", output: null, error: { type: "validation_error", message: `the answer does not match the output schema: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` } };
      }
      result.output = parsed.data;
    }
    return result;
  }
}

/** The agent run's options as agent.run params. */
function paramsOf(o: RemoteAgentOptions<any>): Record<string, unknown> {
  return {
    prompt: o.prompt,
    output_schema: o.outputSchema === undefined ? undefined : toJsonSchema(o.outputSchema as z.ZodType | JsonSchema),
    context: o.context,
    restrictions: o.restrictions,
    approval: o.approval,
    max_retries: o.maxRetries,
    timeout_ms: o.timeout,
    max_steps: o.maxSteps,
    model: o.model,
    machine: o.machine,
    cwd: o.cwd,
    command_timeout_ms: o.commandTimeout,
  };
}

/** A task.log event the agent executor wrote (data.agent = the event type) → the agent event; result/error are read from the task instead. */
function agentEventOf(ge: GroveEvent): AgentEvent | null {
  if (ge.type !== "task.log") return null;
  const d = ge.data as Record<string, any>;
  const message = typeof d.message === "string" ? d.message : "";
  switch (d.agent) {
    case "thinking":
      return { type: "thinking", content: message, step: d.step ?? 0 };
    case "tool_call":
      return { type: "tool_call", id: d.id, tool: d.tool, args: d.args, step: d.step ?? 0 };
    case "output":
      return { type: "output", id: d.id, stream: d.stream, chunk: `${message}\n` };
    case "tool_result":
      return { type: "tool_result", id: d.id, tool: d.tool, status: d.status, result: message.slice(`${d.tool} ${d.status}: `.length) };
    case "approval_required":
      return { type: "approval_required", id: "", request: d.request };
    default:
      return null;
  }
}
