// grove as an MCP server, driven by the MCP SDK's own client: over stdio (`grove mcp`, the built
// CLI as a real process) and over Streamable HTTP (/mcp on a running server, with an API key).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { answer, lastResult, run, steps, workspace } from "../agent/helpers.js";
import { CLI, tempDir } from "../helpers/cli.js";
import { startFakeOpenAI } from "../helpers/fake-openai.js";
import { echoTree, startServer } from "./helpers.js";

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };
const text = (r: unknown) => JSON.parse((r as ToolResult).content[0]!.text);

async function exercise(client: Client) {
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  expect(tools).toEqual(["approve", "cancel", "get_tree", "list_approvals", "list_machines", "list_schedules", "list_tasks", "reject", "run_agent", "run_schedule", "run_tree"]);
  const run = await client.callTool({ name: "run_tree", arguments: { tree: echoTree("mcp", "from-mcp") } });
  expect((run as ToolResult).isError).toBeFalsy();
  const result = text(run);
  expect(result.status).toBe("completed");
  expect(result.tasks[0].result.stdout).toBe("from-mcp\n");
  const tree = text(await client.callTool({ name: "get_tree", arguments: { id: result.tree_id } }));
  expect(tree.tree_id).toBe(result.tree_id);
  const tasks = text(await client.callTool({ name: "list_tasks", arguments: { tree_id: result.tree_id } }));
  expect(tasks[0].owner).toBe("acme/mcp");
  const missing = (await client.callTool({ name: "get_tree", arguments: { id: "nope" } })) as ToolResult;
  expect(missing.isError).toBe(true);
  expect(text(await client.callTool({ name: "list_schedules", arguments: {} }))).toEqual([]);
  return result.tree_id as string;
}

describe("MCP", () => {
  it("grove mcp over stdio runs a tree", async () => {
    const db = join(tempDir(), "g.db");
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp", "--db", db, "--as", "acme/mcp"], stderr: "pipe" });
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(transport);
    try {
      await exercise(client);
    } finally {
      await client.close();
    }
  }, 60_000);

  it("/mcp over Streamable HTTP runs a tree in the key's scope, and needs a key", async () => {
    const s = await startServer();
    try {
      const key = await s.key("acme/mcp");
      const client = new Client({ name: "test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
      try {
        const treeId = await exercise(client);
        const other = await s.key("acme/other");
        const res = await fetch(`${s.url}/rpc`, { method: "POST", headers: { authorization: `Bearer ${other}`, "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks.tree", params: { id: treeId } }) });
        expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32004);
      } finally {
        await client.close();
      }
      const anonymous = new Client({ name: "test", version: "1.0.0" });
      await expect(anonymous.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`)))).rejects.toThrow();
    } finally {
      await s.close();
    }
  }, 60_000);

  it("/mcp runs the agent, which pauses for approval; list_approvals and approve resume it", async () => {
    const fake = await startFakeOpenAI(
      steps(run("touch approved.flag"), (req) => answer({ success: lastResult(req).exit_code === 0, summary: "touched" })),
    );
    const saved = { model: process.env.GROVE_MODEL, url: process.env.GROVE_OPENAI_COMPATIBLE_BASE_URL };
    process.env.GROVE_MODEL = "openai-compatible:fake";
    process.env.GROVE_OPENAI_COMPATIBLE_BASE_URL = fake.url;
    const s = await startServer();
    try {
      const client = new Client({ name: "test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${await s.key("acme/mcp")}` } } }));
      try {
        const dir = workspace({});
        const paused = text(await client.callTool({ name: "run_agent", arguments: { prompt: "mark it", restrictions: { require_approval: ["touch"] }, cwd: dir } }));
        expect(paused).toMatchObject({ status: "waiting_approval", approval: { command: "touch approved.flag" } });
        const waiting = text(await client.callTool({ name: "list_approvals", arguments: {} }));
        expect(waiting.map((a: { task_id: string }) => a.task_id)).toEqual([paused.task_id]);
        expect(existsSync(join(dir, "approved.flag"))).toBe(false);
        const decided = text(await client.callTool({ name: "approve", arguments: { id: paused.task_id, reason: "ok" } }));
        expect(decided).toMatchObject({ decision: "approved", status: "completed" });
        expect(existsSync(join(dir, "approved.flag"))).toBe(true);
        expect(text(await client.callTool({ name: "list_machines", arguments: {} })).map((m: { name: string }) => m.name)).toEqual(["local"]);
      } finally {
        await client.close();
      }
    } finally {
      await s.close();
      await fake.close();
      if (saved.model === undefined) delete process.env.GROVE_MODEL;
      else process.env.GROVE_MODEL = saved.model;
      if (saved.url === undefined) delete process.env.GROVE_OPENAI_COMPATIBLE_BASE_URL;
      else process.env.GROVE_OPENAI_COMPATIBLE_BASE_URL = saved.url;
    }
  }, 60_000);
});
