// grove's operations as MCP tools (run a tree, read a tree, list tasks, cancel, list and run
// schedules, run the agent, list / approve / reject approvals, list machines), served over stdio
// by `grove mcp` and over Streamable HTTP at /mcp. Each tool calls the RPC method of the same
// operation, so params are validated and scope is checked in one place.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Principal } from "./auth/principal.js";
import { toRpcError } from "./errors.js";
import type { MethodRegistry } from "./methods/registry.js";
import type { ServerServices } from "./services.js";

const TOOLS: { name: string; method: string; description: string; input: z.ZodRawShape; map?: (a: Record<string, unknown>) => Record<string, unknown> }[] = [
  {
    name: "run_tree",
    method: "tasks.execute",
    description: "Validate a task tree (grove JSON format: {name, tasks: [{name, executor, inputs, dependencies}]}), run it to the end and return every task's status and result.",
    input: { tree: z.record(z.string(), z.unknown()).describe("the tree definition"), inputs: z.record(z.string(), z.unknown()).optional() },
  },
  { name: "get_tree", method: "tasks.tree", description: "The state and results of a tree (by tree id or one of its task ids).", input: { id: z.string() } },
  {
    name: "list_tasks",
    method: "tasks.list",
    description: "Tasks, newest first, optionally of one tree or in one status.",
    input: { tree_id: z.string().optional(), status: z.string().optional(), limit: z.number().int().min(1).max(1000).optional() },
  },
  { name: "cancel", method: "tasks.cancel", description: "Cancel a task, or every unfinished task of a tree.", input: { id: z.string(), reason: z.string().optional() } },
  { name: "list_schedules", method: "schedules.list", description: "The schedules and when each fires next.", input: {} },
  { name: "run_schedule", method: "schedules.run", description: "Fire a schedule now by name and wait for its run.", input: { name: z.string() } },
  {
    name: "run_agent",
    method: "agent.run",
    description:
      "Run the AI agent on a machine (default: the server's host) to reach a goal with shell commands, under restrictions; returns {status, output, commands, planned_actions, task_id}. " +
      "status waiting_approval means a command needs a human: decide it with approve / reject (task_id).",
    input: {
      prompt: z.string().describe("the goal, in natural language"),
      output_schema: z.record(z.string(), z.unknown()).optional().describe("JSON Schema of the output (default {success, summary})"),
      context: z.record(z.string(), z.unknown()).optional(),
      restrictions: z.record(z.string(), z.unknown()).optional().describe("no_sudo, no_delete, dry_run, allowed_dirs, read_only_dirs, forbidden_commands, require_approval"),
      approval: z.enum(["never", "on_risk", "always"]).optional(),
      machine: z.string().optional(),
      cwd: z.string().optional().describe("working directory of the commands"),
      timeout_ms: z.number().int().positive().optional(),
      max_steps: z.number().int().positive().optional(),
    },
  },
  { name: "list_approvals", method: "tasks.approvals", description: "Tasks waiting for a human's approval, with the command and why.", input: { tree_id: z.string().optional() } },
  {
    name: "approve",
    method: "tasks.approve",
    description: "Approve a task waiting for approval; it resumes and, with wait (default true here), the answer comes once it stopped again.",
    input: { id: z.string().describe("the task id"), reason: z.string().optional(), wait: z.boolean().optional() },
    map: (a) => ({ ...a, wait: a.wait ?? true }),
  },
  {
    name: "reject",
    method: "tasks.reject",
    description: "Reject a task waiting for approval (the agent is told the command was refused); with wait (default true here) the answer comes once it stopped again.",
    input: { id: z.string().describe("the task id"), reason: z.string().optional(), wait: z.boolean().optional() },
    map: (a) => ({ ...a, wait: a.wait ?? true }),
  },
  { name: "list_machines", method: "machines.list", description: "The machines an agent or a command may run on.", input: {} },
];

export function createMcpServer(services: ServerServices, methods: MethodRegistry, principal: Principal, version: string): McpServer {
  const server = new McpServer({ name: "grove", version });
  for (const tool of TOOLS) {
    const method = methods.get(tool.method);
    if (!method) continue;
    server.registerTool(tool.name, { description: tool.description, inputSchema: tool.input }, (async (args: Record<string, unknown>) => {
      const parsed = method.params.safeParse(tool.map ? tool.map(args) : args);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return { isError: true, content: [{ type: "text" as const, text: `invalid arguments: ${issue.path.join(".")}: ${issue.message}` }] };
      }
      try {
        const result = await method.handler(parsed.data, { principal, scope: principal.scope, services, signal: new AbortController().signal });
        return { content: [{ type: "text" as const, text: JSON.stringify(result, null, 2) }] };
      } catch (err) {
        const e = toRpcError(err);
        return { isError: true, content: [{ type: "text" as const, text: `${e.message} (code ${e.code})` }] };
      }
    }) as never);
  }
  return server;
}
