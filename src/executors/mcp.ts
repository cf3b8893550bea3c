import { promises as fsp } from "node:fs";
import { z } from "zod";
import { defineExecutor, type ExecutorContext } from "../core/executor.js";
import { TaskFailure } from "../core/errors.js";
import { Restrictions } from "../agent/policy/types.js";
import { assertPublicUrl } from "./net-guard.js";
import { abortFailure, BACKSTOP_MS, deadline, errorText, raceSignal } from "./net-target.js";
import { requiredWhen, need } from "./schema-rules.js";
import { checkSpawn } from "./spawn-policy.js";

const OPERATIONS = ["list_tools", "call_tool", "list_resources", "read_resource", "list_prompts", "get_prompt"] as const;
/** Pages read from a paginated list before giving up (a server that never ends its cursor). */
const MAX_PAGES = 100;
/** stderr lines of a stdio server that are logged; the rest are counted. */
const MAX_STDERR_LINES = 200;

export const McpInput = z
  .strictObject({
    transport: z.enum(["stdio", "http"]).describe("stdio: spawn a local server; http: Streamable HTTP"),
    operation: z.enum(OPERATIONS),
    command: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe("stdio: the program (or [program, ...args]); checked by the command policy, run without a shell"),
    args: z.array(z.string()).optional().describe("stdio: arguments appended to command"),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
      .optional()
      .describe("stdio: extra environment variables (the server otherwise gets only HOME, PATH, SHELL, TERM, USER, LOGNAME)"),
    cwd: z.string().min(1).optional().describe("stdio: working directory of the server"),
    restrictions: Restrictions.optional().describe(
      "stdio: command-policy restrictions for the server command; they narrow the always-on {no_sudo, no_delete}",
    ),
    url: z
      .string()
      .regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\//, "must be an http:// or https:// URL")
      .optional()
      .describe("http: the server's MCP endpoint"),
    headers: z.record(z.string(), z.string()).optional().describe("http: request headers (e.g. Authorization)"),
    tool_name: z.string().min(1).optional().describe("call_tool: the tool"),
    arguments: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("call_tool: the tool's arguments; get_prompt: the prompt's arguments (non-strings sent as JSON)"),
    resource_uri: z.string().min(1).optional().describe("read_resource: the resource URI"),
    prompt_name: z.string().min(1).optional().describe("get_prompt: the prompt"),
    allow_tool_error: z.boolean().default(false).describe("call_tool: a result with isError does not fail the task"),
    timeout_ms: z.number().int().positive().default(30_000).describe("Limit for starting/connecting and the operation"),
  })
  .meta({
    allOf: [
      requiredWhen("transport", ["stdio"], ["command"]),
      requiredWhen("transport", ["http"], ["url"]),
      requiredWhen("operation", ["call_tool"], ["tool_name"]),
      requiredWhen("operation", ["read_resource"], ["resource_uri"]),
      requiredWhen("operation", ["get_prompt"], ["prompt_name"]),
    ],
  });

export const McpOutput = z.object({
  operation: z.enum(OPERATIONS),
  server: z.object({ name: z.string(), version: z.string() }).optional().describe("What the server said it is"),
  tools: z.array(z.unknown()).optional(),
  content: z.array(z.unknown()).optional().describe("call_tool: the content items"),
  structured_content: z.unknown().optional(),
  text: z.string().optional().describe("call_tool: the text items joined by newlines"),
  is_error: z.boolean().optional(),
  resources: z.array(z.unknown()).optional(),
  contents: z.array(z.unknown()).optional().describe("read_resource: the contents"),
  prompts: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional().describe("get_prompt: the messages"),
  description: z.string().optional(),
  simulated: z.string().optional().describe("dry_run: the server command that was not started"),
});

export type McpInputs = z.output<typeof McpInput>;
export type McpResult = z.infer<typeof McpOutput>;

export const mcp = defineExecutor({
  id: "mcp",
  name: "MCP client",
  description:
    "Calls a Model Context Protocol server over stdio (a local program, checked by the command policy) or " +
    "Streamable HTTP: list_tools, call_tool, list_resources, read_resource, list_prompts, get_prompt. " +
    "HTTP servers on private and link-local addresses are refused unless allowPrivateNetwork is set.",
  input: McpInput,
  output: McpOutput,
  cancelable: true,
  execute: (inputs, ctx) => callServer(inputs, ctx),
});

type Client = import("@modelcontextprotocol/sdk/client/index.js").Client;
type Transport = import("@modelcontextprotocol/sdk/shared/transport.js").Transport;

async function callServer(inputs: McpInputs, ctx: ExecutorContext): Promise<McpResult> {
  const timeoutMs = inputs.timeout_ms ?? 30_000;
  const what = `mcp ${inputs.operation}`;
  const { signal, done } = deadline(ctx.signal, timeoutMs, what);
  let transport: Transport | undefined;
  try {
    let target: string;
    if (inputs.transport === "stdio") {
      const cmd = need(inputs.command, "command", "with transport stdio");
      const argv = [...(Array.isArray(cmd) ? cmd : [cmd]), ...(inputs.args ?? [])];
      const check = await checkSpawn(argv, inputs.env, inputs.cwd, inputs.restrictions, ctx);
      if (check.decision === "simulate") {
        ctx.log(`dry run: not starting ${check.line}`);
        return { operation: inputs.operation, simulated: check.line };
      }
      target = check.line;
      if (inputs.cwd !== undefined) await checkDir(inputs.cwd);
      transport = await stdioTransport(argv, inputs, ctx);
    } else {
      const raw = need(inputs.url, "url", "with transport http");
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new TaskFailure("validation_error", `inputs.url ${JSON.stringify(raw)} is not a valid URL`);
      }
      if (url.username || url.password) throw new TaskFailure("validation_error", "inputs.url must not contain credentials: use headers");
      target = url.href;
      await assertPublicUrl(url, ctx.settings, signal); // fail before the SDK is even loaded
      transport = await httpTransport(url, inputs, ctx, signal);
    }
    signal.throwIfAborted();

    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const client = new Client({ name: "grove", version: "1" });
    // The SDK's per-request timeout is a backstop: our deadline reports the timeout first.
    const opts = { signal, timeout: timeoutMs + BACKSTOP_MS };
    try {
      await raceSignal(client.connect(transport, opts), signal, what);
    } catch (err) {
      if (signal.aborted || err instanceof TaskFailure) throw err;
      // "python -m server" as one string is one program name: say how to pass arguments.
      const hint =
        inputs.transport === "stdio" && typeof inputs.command === "string" && /\s/.test(inputs.command)
          ? " (the command is run without a shell: give [program, ...args] or use args)"
          : "";
      throw new TaskFailure("executor_error", `cannot connect to MCP server ${target}: ${errorText(err)}${hint}`);
    }
    const info = client.getServerVersion();
    ctx.log(`connected to ${info?.name ?? "MCP server"} ${info?.version ?? ""}`.trim());
    const out = await raceSignal(operate(client, inputs, opts), signal, what);
    if (info) out.server = { name: info.name, version: info.version };
    return out;
  } catch (err) {
    if (signal.aborted) throw abortFailure(signal, what);
    if (err instanceof TaskFailure || (err as Error).name === "ApprovalRequired") throw err;
    throw new TaskFailure("executor_error", `${what} failed: ${errorText(err)}`);
  } finally {
    done();
    // Closing the stdio transport ends the server process (SIGTERM, then SIGKILL).
    await transport?.close().catch(() => undefined);
  }
}

async function stdioTransport(argv: string[], inputs: McpInputs, ctx: ExecutorContext): Promise<Transport> {
  const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
  const t = new StdioClientTransport({ command: argv[0]!, args: argv.slice(1), env: inputs.env, cwd: inputs.cwd, stderr: "pipe" });
  // The server's stderr goes to the task log (a few hundred lines at most), not grove's stderr.
  let lines = 0;
  let partial = "";
  t.stderr?.on("data", (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (++lines <= MAX_STDERR_LINES) ctx.log(line, { stream: "stderr" });
      else if (lines === MAX_STDERR_LINES + 1) ctx.log(`stderr logging stopped after ${MAX_STDERR_LINES} lines`, { stream: "stderr" });
    }
  });
  return t;
}

async function httpTransport(url: URL, inputs: McpInputs, ctx: ExecutorContext, signal: AbortSignal): Promise<Transport> {
  const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
  // Every request the transport makes (and every redirect it follows) passes the guard.
  const guardedFetch = async (input: string | URL | Request, init?: RequestInit) => {
    const u = new URL(input instanceof Request ? input.url : String(input));
    await assertPublicUrl(u, ctx.settings, signal);
    return fetch(input, init);
  };
  return new StreamableHTTPClientTransport(url, { requestInit: { headers: inputs.headers }, fetch: guardedFetch });
}

type Opts = { signal: AbortSignal; timeout: number };

async function operate(client: Client, inputs: McpInputs, opts: Opts): Promise<McpResult> {
  const op = inputs.operation;
  switch (op) {
    case "list_tools":
      return { operation: op, tools: await paginate((cursor) => client.listTools({ cursor }, opts), (r) => r.tools) };
    case "list_resources":
      return { operation: op, resources: await paginate((cursor) => client.listResources({ cursor }, opts), (r) => r.resources) };
    case "list_prompts":
      return { operation: op, prompts: await paginate((cursor) => client.listPrompts({ cursor }, opts), (r) => r.prompts) };
    case "read_resource": {
      const uri = need(inputs.resource_uri, "resource_uri", "with operation read_resource");
      const r = await client.readResource({ uri }, opts);
      return { operation: op, contents: r.contents };
    }
    case "get_prompt": {
      const name = need(inputs.prompt_name, "prompt_name", "with operation get_prompt");
      const args = Object.fromEntries(Object.entries(inputs.arguments ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
      const r = await client.getPrompt({ name, arguments: args }, opts);
      return { operation: op, messages: r.messages, ...(r.description !== undefined ? { description: r.description } : {}) };
    }
    case "call_tool": {
      const name = need(inputs.tool_name, "tool_name", "with operation call_tool");
      const r = await client.callTool({ name, arguments: inputs.arguments ?? {} }, undefined, opts);
      const content = (Array.isArray(r.content) ? r.content : []) as { type: string; text?: string }[];
      const text = content.filter((c) => c.type === "text" && typeof c.text === "string").map((c) => c.text).join("\n");
      const isError = r.isError === true;
      if (isError && !(inputs.allow_tool_error ?? false)) {
        throw new TaskFailure("executor_error", `MCP tool ${name} reported an error${text ? `: ${text.slice(0, 500)}` : ""}`, { content });
      }
      const out: McpResult = { operation: op, content, text, is_error: isError };
      if (r.structuredContent !== undefined) out.structured_content = r.structuredContent;
      return out;
    }
  }
}

async function paginate<R extends { nextCursor?: string }>(page: (cursor: string | undefined) => Promise<R>, items: (r: R) => unknown[]): Promise<unknown[]> {
  const all: unknown[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const r = await page(cursor);
    all.push(...items(r));
    if (!r.nextCursor) return all;
    cursor = r.nextCursor;
  }
  throw new TaskFailure("executor_error", `the MCP server returned more than ${MAX_PAGES} pages`);
}

async function checkDir(cwd: string): Promise<void> {
  let stat;
  try {
    stat = await fsp.stat(cwd);
  } catch {
    throw new TaskFailure("executor_error", `cwd ${cwd} does not exist`);
  }
  if (!stat.isDirectory()) throw new TaskFailure("executor_error", `cwd ${cwd} is not a directory`);
}
