// `grove.agent`: the agent as an SDK call (seed 000's `agent.run` / `agent.run_stream`). The loop
// and the AI SDK are imported on first use, so creating a Grove client stays cheap.
import type { z } from "zod";
import type { Decision, ResumeOptions } from "../agent/run.js";
import type { AgentEvent, AgentResult, AgentRunOptions, AgentState, OutputOf } from "../agent/types.js";
import type { JsonSchema } from "../core/validation.js";
import type { Machine } from "../machines/types.js";

export type { AgentEvent, AgentResult, AgentRunOptions, AgentState } from "../agent/types.js";

/** Run options where `machine` may also be a machine's name. */
export type AgentCallOptions<S extends z.ZodType | JsonSchema | undefined> = Omit<AgentRunOptions<S>, "machine"> & {
  machine?: Machine | string;
  onEvent?: (e: AgentEvent) => void;
};

export class AgentClient {
  constructor(private readonly resolveMachine: (name: string) => Promise<Machine> = defaultMachine) {}

  /** Runs the agent to its end; `result.output` is typed by a zod `outputSchema`. */
  async run<S extends z.ZodType | JsonSchema | undefined = undefined>(opts: AgentCallOptions<S>): Promise<AgentResult<OutputOf<S>>> {
    const { runAgent } = await import("../agent/run.js");
    return runAgent<S>({ ...opts, machine: await this.machine(opts.machine) });
  }

  /** The same run as an async iterator of thinking | tool_call | output | tool_result | approval_required | result | error events. */
  runStream<S extends z.ZodType | JsonSchema | undefined = undefined>(opts: AgentCallOptions<S>): AsyncIterable<AgentEvent> {
    const machine = () => this.machine(opts.machine);
    return {
      async *[Symbol.asyncIterator]() {
        const { runAgentStream } = await import("../agent/run.js");
        yield* runAgentStream<S>({ ...opts, machine: await machine() });
      },
    };
  }

  /** Continues a run that ended "waiting_approval" (its `state`) with a decision. */
  async resume<S extends z.ZodType | JsonSchema | undefined = undefined>(
    state: AgentState,
    decision: Decision,
    opts: Omit<ResumeOptions<S>, "machine"> & { machine?: Machine | string; onEvent?: (e: AgentEvent) => void } = {},
  ): Promise<AgentResult<OutputOf<S>>> {
    const { resumeAgent } = await import("../agent/run.js");
    return resumeAgent<S>(state, decision, { ...opts, machine: await this.machine(opts.machine ?? state.settings.machine) });
  }

  private async machine(m: Machine | string | undefined): Promise<Machine | undefined> {
    if (m === undefined || typeof m === "object") return m;
    return this.resolveMachine(m);
  }
}

async function defaultMachine(name: string): Promise<Machine> {
  if (name !== "local") {
    const { NotFoundError } = await import("../core/errors.js");
    throw new NotFoundError(`machine "${name}" is not known (only "local" is)`);
  }
  return (await import("../machines/local.js")).localMachine;
}
