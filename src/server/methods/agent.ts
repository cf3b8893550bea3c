// agent.run (DESIGN §9, seed 000's `agent.run`): the AI agent run by the server, in the caller's
// scope. The run is an `agent` task in a one-task tree owned by the caller, so it is stored,
// streamed, cancellable and approvable like any task: machine names resolve through the store's
// machine registry for that owner, a command needing approval pauses the task (decide it with
// tasks.approve / tasks.reject, and the server resumes it), and with `stream: true` the answer is
// the task id at once, its events on GET /tasks/:id/events (agent events are task.log events
// whose data.agent is the event type).
import { z } from "zod";
import { agentResultOfTask } from "../../client/agent-task.js";
import { AgentInput } from "../../agent/executor.js";
import { InputError, NotFoundError } from "../../core/errors.js";
import { scopeContains } from "../../core/scope.js";
import { loadTree } from "../../tree/index.js";
import { defineMethod, type MethodContext } from "./registry.js";

export const AgentRunParams = AgentInput.extend({
  stream: z.boolean().optional().describe("answer at once with the task id; follow GET /tasks/:id/events"),
}).strict();

const AgentErrorJson = z.object({ type: z.string(), message: z.string(), details: z.unknown().optional() });

export const AgentRunResult = z.object({
  task_id: z.string(),
  tree_id: z.string(),
  status: z.enum(["completed", "failed", "waiting_approval"]),
  output: z.unknown().describe("the final answer, valid against output_schema (null unless completed)"),
  error: AgentErrorJson.optional(),
  planned_actions: z.array(z.unknown()),
  commands: z.array(z.unknown()),
  steps: z.number().int(),
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number(), total_tokens: z.number() }),
  model: z.string(),
  approval: z.object({ command: z.string(), reasons: z.array(z.string()), risk: z.string(), machine: z.string().optional() }).optional().describe("with waiting_approval: what awaits a decision"),
});

export const AgentStreamResult = z.object({
  task_id: z.string(),
  tree_id: z.string(),
  stream: z.literal(true),
  events: z.string().describe("path of the task's SSE stream"),
});

/** A machine other than "local" must be one the caller's tasks may use (its own or an ancestor's). */
async function checkMachine(ctx: MethodContext, name: string | undefined): Promise<void> {
  if (name === undefined || name === "local") return;
  const rows = ctx.services.machines ? await ctx.services.machines.list(ctx.scope) : [];
  if (!rows.some((r) => r.name === name && scopeContains(r.owner, ctx.scope))) throw new NotFoundError(`no machine "${name}" (machines.list shows the ones you may use)`);
}

export const agentRun = defineMethod({
  name: "agent.run",
  description:
    "Run the AI agent in the server, in the caller's scope: the result {status, output, commands, planned_actions, …} with the task that ran it; " +
    "status waiting_approval when a command needs a human (tasks.approve / tasks.reject resume it). With `stream: true`, the task id at once (GET /tasks/:id/events).",
  params: AgentRunParams,
  result: z.union([AgentRunResult, AgentStreamResult]),
  async handler(p, ctx) {
    const { store, registry, trees } = ctx.services;
    if (!registry.get("agent")) throw new NotFoundError("this server has no agent executor");
    const { stream, ...inputs } = p;
    await checkMachine(ctx, inputs.machine);
    if (inputs.output_schema !== undefined) {
      const { outputSpec } = await import("../../agent/output-schema.js");
      outputSpec(inputs.output_schema); // an invalid schema is refused now, naming output_schema
    }
    // The inputs travel in tree.inputs and the task takes each by an exact template: values are
    // passed as they are, so a prompt may contain "{{ … }}" without being read as a template.
    const defined = Object.entries(inputs).filter(([, v]) => v !== undefined);
    const doc = {
      name: "agent",
      tasks: [{ name: "agent", executor: "agent", inputs: Object.fromEntries(defined.map(([k]) => [k, `{{ tree.inputs.agent.${k} }}`])) }],
    };
    const tree = loadTree(doc, { registry, owner: ctx.scope, defaultName: "agent" });
    tree.inputs = { agent: Object.fromEntries(defined) };
    const created = await store.createTree(tree);
    const task = (await store.treeTasks(created.id, ctx.scope))[0];
    if (!task) throw new InputError("agent.run: the agent task was not created", "prompt");
    if (stream) {
      trees.start(created.id);
      return { task_id: task.id, tree_id: created.id, stream: true as const, events: `/tasks/${task.id}/events` };
    }
    // The client going away does not cancel the run: the server worker finishes it.
    await trees.run(created.id, { signal: ctx.signal });
    const done = await store.getTask(task.id, ctx.scope);
    if (!done) throw new NotFoundError(`no task ${task.id}`);
    const approval = done.status === "waiting_approval" ? (await store.listApprovals({ scope: ctx.scope, treeId: created.id }))[0]?.request : undefined;
    const { state: _state, ...result } = agentResultOfTask(done, approval);
    return { ...result, task_id: task.id, tree_id: created.id } as z.input<typeof AgentRunResult>;
  },
});

export const AGENT_METHODS = [agentRun];
