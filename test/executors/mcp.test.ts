import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { mcp, type McpResult } from "../../src/executors/mcp.js";
import { ApprovalRequired } from "../../src/core/errors.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";
import { tempDir } from "../helpers/cli.js";
// @ts-expect-error -- a plain JS fixture (it is also run by node as the stdio server)
import { buildServer } from "../fixtures/mcp/build.mjs";

const SERVER = resolve(import.meta.dirname, "../fixtures/mcp/server.mjs");
const stdio = { transport: "stdio", command: [process.execPath, SERVER] };

// The same fixture server over Streamable HTTP (stateless: one McpServer per request, as the SDK documents).
let http: Server;
let endpoint: string;
let requests = 0;
const seenHeaders: IncomingMessage["headers"][] = [];

beforeAll(async () => {
  http = createServer(async (req, res) => {
    requests++;
    seenHeaders.push(req.headers);
    if (!req.url?.startsWith("/mcp")) return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  endpoint = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise<void>((r) => http.close(() => r()));
});

const run = (inputs: Record<string, unknown>, ctx = makeCtx().ctx) => runExecutor<McpResult>(mcp, inputs, ctx);

describe("mcp executor over stdio (an SDK server spawned by the executor)", () => {
  it("lists tools, logs the server's stderr, and runs it in cwd", async () => {
    const dir = realpathSync(tempDir("grove-mcp-"));
    const { ctx, logs } = makeCtx();
    const r = await run({ ...stdio, operation: "list_tools", cwd: dir }, ctx);
    expect(r.server).toEqual({ name: "grove-fixture", version: "1.2.3" });
    expect((r.tools as { name: string }[]).map((t) => t.name).sort()).toEqual(["add", "broken", "env", "slow"]);
    expect(logs.map((l) => l.message)).toContain(`fixture server ready in ${dir}`);
  });

  it("calls a tool; the server gets only the env it is given, not grove's", async () => {
    const r = await run({ ...stdio, operation: "call_tool", tool_name: "add", arguments: { a: 2, b: 3 } });
    expect(r).toMatchObject({ operation: "call_tool", text: "5", is_error: false, content: [{ type: "text", text: "5" }] });
    process.env.GROVE_TEST_PARENT_SECRET = "do-not-leak";
    try {
      const leaked = await run({ ...stdio, operation: "call_tool", tool_name: "env", arguments: { name: "GROVE_TEST_PARENT_SECRET" } });
      expect(leaked.text).toBe("<unset>");
      const given = await run({ ...stdio, env: { FIXTURE_VALUE: "given" }, operation: "call_tool", tool_name: "env", arguments: { name: "FIXTURE_VALUE" } });
      expect(given.text).toBe("given");
    } finally {
      delete process.env.GROVE_TEST_PARENT_SECRET;
    }
  });

  it("lists and reads resources, lists and gets prompts", async () => {
    const res = await run({ ...stdio, operation: "list_resources" });
    expect(res.resources).toEqual([expect.objectContaining({ uri: "memo://readme", name: "readme" })]);
    const read = await run({ ...stdio, operation: "read_resource", resource_uri: "memo://readme" });
    expect(read.contents).toEqual([{ uri: "memo://readme", mimeType: "text/plain", text: "Read me first." }]);
    const prompts = await run({ ...stdio, operation: "list_prompts" });
    expect((prompts.prompts as { name: string }[]).map((p) => p.name)).toEqual(["review"]);
    const got = await run({ ...stdio, operation: "get_prompt", prompt_name: "review", arguments: { code: "x = 1" } });
    expect(got.messages).toEqual([{ role: "user", content: { type: "text", text: "Please review:\nx = 1" } }]);
  });

  it("a tool error fails the task unless allow_tool_error", async () => {
    const f = await failureOf(run({ ...stdio, operation: "call_tool", tool_name: "broken" }));
    expect(f.message).toBe("MCP tool broken reported an error: the widget is jammed");
    const r = await run({ ...stdio, operation: "call_tool", tool_name: "broken", allow_tool_error: true });
    expect(r).toMatchObject({ is_error: true, text: "the widget is jammed" });
  });

  it("times out on a tool that does not answer", async () => {
    const f = await failureOf(run({ ...stdio, operation: "call_tool", tool_name: "slow", timeout_ms: 1500 }));
    expect(f.type).toBe("timeout");
    expect(f.message).toBe("mcp call_tool timed out after 1500 ms");
  });

  it("fails clearly on a missing cwd and on a command line given as one string", async () => {
    const f = await failureOf(run({ ...stdio, operation: "list_tools", cwd: "/no/such/dir" }));
    expect(f.message).toBe("cwd /no/such/dir does not exist");
    const g = await failureOf(run({ transport: "stdio", command: `${process.execPath} ${SERVER}`, operation: "list_tools", timeout_ms: 5000 }));
    expect(g.message).toMatch(/ENOENT.*\(the command is run without a shell: give \[program, \.\.\.args\] or use args\)$/);
  });

  it("fails clearly when the server program does not exist", async () => {
    const f = await failureOf(run({ transport: "stdio", command: "/no/such/mcp-server", operation: "list_tools", timeout_ms: 5000 }));
    expect(f.message).toMatch(/^cannot connect to MCP server \/no\/such\/mcp-server: .*ENOENT/);
  });
});

describe("mcp stdio: the server command passes the command policy", () => {
  it("denies sudo, deletions, dangerous env and shells reading scripts, before spawning anything", async () => {
    const dir = tempDir("grove-mcp-policy-");
    const marker = join(dir, "spawned");
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ command: ["sudo", process.execPath, SERVER] }, /no_sudo: "sudo"/],
      [{ command: "sh", args: ["-c", `touch ${marker}; rm -rf ${dir}`] }, /no_delete: "rm" at .* via sh -c/],
      [{ command: [process.execPath, SERVER], env: { NODE_OPTIONS: "--require /tmp/evil.js" } }, /fail_closed: .*NODE_OPTIONS/],
      [{ command: ["bash", join(dir, "server.sh")] }, /fail_closed: "bash" runs the script file/],
      [{ command: [process.execPath, SERVER], restrictions: { forbidden_commands: ["node"] } }, /forbidden_commands: "node"/],
    ];
    for (const [inputs, reason] of cases) {
      const f = await failureOf(run({ transport: "stdio", operation: "list_tools", ...inputs }));
      expect(f.message).toMatch(/^command policy denies starting /);
      expect(f.message).toMatch(reason);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("never shows env values in the denial", async () => {
    const f = await failureOf(run({ ...stdio, env: { LD_PRELOAD: "/tmp/secret-lib.so" }, operation: "list_tools" }));
    expect(f.message).toContain("LD_PRELOAD=…");
    expect(f.message).not.toContain("secret-lib");
  });

  it("require_approval pauses for a human; an approval resumes it; dry_run simulates", async () => {
    const inputs = { ...stdio, operation: "call_tool", tool_name: "add", arguments: { a: 1, b: 1 }, restrictions: { require_approval: ["node"] } };
    let paused: ApprovalRequired | undefined;
    try {
      await run(inputs);
    } catch (err) {
      paused = err as ApprovalRequired;
    }
    expect(paused).toBeInstanceOf(ApprovalRequired);
    expect(paused!.request.command).toBe(`${process.execPath} ${SERVER}`);
    const { ctx } = makeCtx();
    ctx.resume = { decision: "approved", request: paused!.request, state: null, by: "ops" };
    expect((await run(inputs, ctx)).text).toBe("2");
    ctx.resume = { decision: "rejected", request: paused!.request, state: null, by: "ops", reason: "not today" };
    expect((await failureOf(run(inputs, ctx))).message).toBe(`starting ${process.execPath} ${SERVER} was rejected by ops: not today`);
    const dry = await run({ ...stdio, operation: "list_tools", restrictions: { dry_run: true } });
    expect(dry).toEqual({ operation: "list_tools", simulated: `${process.execPath} ${SERVER}` });
  });
});

describe("mcp executor over Streamable HTTP (an SDK server in the test)", () => {
  it("lists tools and calls one, sending the given headers", async () => {
    const list = await run({ transport: "http", url: endpoint, operation: "list_tools", headers: { authorization: "Bearer t0ken" } });
    expect((list.tools as { name: string }[]).map((t) => t.name)).toContain("add");
    expect(seenHeaders.at(-1)!.authorization).toBe("Bearer t0ken");
    const call = await run({ transport: "http", url: endpoint, operation: "call_tool", tool_name: "add", arguments: { a: 40, b: 2 } });
    expect(call.text).toBe("42");
    const read = await run({ transport: "http", url: endpoint, operation: "read_resource", resource_uri: "memo://readme" });
    expect(read.contents).toEqual([expect.objectContaining({ text: "Read me first." })]);
  });

  it("times out on a server that accepts the connection and never answers", async () => {
    const blackHole = createTcpServer(() => undefined);
    await new Promise<void>((r) => blackHole.listen(0, "127.0.0.1", () => r()));
    const port = (blackHole.address() as AddressInfo).port;
    try {
      const f = await failureOf(run({ transport: "http", url: `http://127.0.0.1:${port}/mcp`, operation: "list_tools", timeout_ms: 800 }));
      expect(f.type).toBe("timeout");
      expect(f.message).toBe("mcp list_tools timed out after 800 ms");
    } finally {
      blackHole.close();
    }
  });

  it("fails clearly when nothing listens", async () => {
    const tmp = createServer();
    await new Promise<void>((r) => tmp.listen(0, "127.0.0.1", () => r()));
    const port = (tmp.address() as AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    const f = await failureOf(run({ transport: "http", url: `http://127.0.0.1:${port}/mcp`, operation: "list_tools", timeout_ms: 5000 }));
    expect(f.message).toMatch(/^cannot connect to MCP server http:\/\/127\.0\.0\.1:\d+\/mcp: .*(ECONNREFUSED|fetch failed)/);
  });
});

describe("mcp executor through the engine", () => {
  it("runs a stdio call_tool task", async () => {
    const t = await runTask("mcp", { ...stdio, operation: "call_tool", tool_name: "add", arguments: { a: 20, b: 1 } });
    expect(t.status).toBe("completed");
    expect(t.result.text).toBe("21");
  });

  it("refuses a loopback HTTP server without allowPrivateNetwork, before any request; allows it with", async () => {
    const before = requests;
    const refused = await runTask("mcp", { transport: "http", url: endpoint, operation: "list_tools" });
    expect(refused.status).toBe("failed");
    expect(refused.error!.message).toMatch(/refusing http:\/\/127\.0\.0\.1:\d+\/mcp: 127\.0\.0\.1 is a loopback address/);
    const named = await runTask("mcp", { transport: "http", url: endpoint.replace("127.0.0.1", "localhost"), operation: "list_tools" });
    expect(named.error!.message).toMatch(/localhost resolves to .*loopback address/);
    const metadata = await runTask("mcp", { transport: "http", url: "http://169.254.169.254/mcp", operation: "list_tools" });
    expect(metadata.error!.message).toMatch(/169\.254\.169\.254 is a link-local address/);
    expect(requests).toBe(before);
    const ok = await runTask("mcp", { transport: "http", url: endpoint, operation: "list_prompts" }, { allowPrivateNetwork: true });
    expect(ok.status).toBe("completed");
  });

  it("rejects invalid inputs naming the field", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ transport: "stdio", operation: "list_tools" }, /task "task": inputs\.command is required/],
      [{ transport: "http", operation: "list_tools" }, /inputs\.url is required/],
      [{ ...stdio, operation: "call_tool" }, /inputs\.tool_name is required/],
      [{ ...stdio, operation: "read_resource" }, /inputs\.resource_uri is required/],
      [{ ...stdio, operation: "get_prompt" }, /inputs\.prompt_name is required/],
      [{ ...stdio, operation: "delete_everything" }, /inputs\.operation must be one of/],
      [{ transport: "ftp", url: "x", operation: "list_tools" }, /inputs\.transport must be one of \["stdio","http"\]/],
      [{ ...stdio, operation: "list_tools", restrictions: { no_sudoo: true } }, /inputs\.restrictions\.no_sudoo is not allowed/],
      [{ transport: "http", url: "file:///etc/passwd", operation: "list_tools" }, /inputs\.url must match pattern/],
    ];
    const before = requests;
    for (const [inputs, message] of cases) await expect(runTask("mcp", inputs, { allowPrivateNetwork: true })).rejects.toThrow(message);
    expect(requests).toBe(before);
  });
});
