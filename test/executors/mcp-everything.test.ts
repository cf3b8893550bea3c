import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { mcp, type McpResult } from "../../src/executors/mcp.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";
import { ROOT } from "../helpers/cli.js";

// A real MCP peer grove did not write: the reference "everything" server of the MCP project
// (@modelcontextprotocol/server-everything), over stdio (spawned by the executor, through the
// command policy) and over Streamable HTTP (its own express server, sessions and all).
const EVERYTHING = join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const stdio = { transport: "stdio", command: [process.execPath, EVERYTHING, "stdio"] };

const run = (inputs: Record<string, unknown>, ctx = makeCtx().ctx) => runExecutor<McpResult>(mcp, inputs, ctx);

/** What every transport must show against the same server. */
function behaviours(target: () => Record<string, unknown>) {
  it("lists its tools (with their input schemas) and names the server", async () => {
    const r = await run({ ...target(), operation: "list_tools" });
    expect(r.server?.name).toMatch(/everything/i);
    const tools = r.tools as { name: string; inputSchema: { properties?: Record<string, unknown> } }[];
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "get-structured-content", "get-env"]));
    expect(Object.keys(tools.find((t) => t.name === "get-sum")!.inputSchema.properties ?? {})).toEqual(["a", "b"]);
  });

  it("calls tools: text content, structured content", async () => {
    const echo = await run({ ...target(), operation: "call_tool", tool_name: "echo", arguments: { message: "hello grove" } });
    expect(echo).toMatchObject({ operation: "call_tool", text: "Echo: hello grove", is_error: false });
    const sum = await run({ ...target(), operation: "call_tool", tool_name: "get-sum", arguments: { a: 2, b: 40 } });
    expect(sum.text).toMatch(/42/);
    const weather = await run({ ...target(), operation: "call_tool", tool_name: "get-structured-content", arguments: { location: "Chicago" } });
    expect(weather.structured_content).toEqual(expect.objectContaining({ temperature: expect.any(Number), conditions: expect.any(String) }));
  });

  it("a tool's own error (bad arguments) fails the task with the server's message", async () => {
    const f = await failureOf(run({ ...target(), operation: "call_tool", tool_name: "get-sum", arguments: { a: "two" } }));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/get-sum/);
  });

  it("lists and reads resources", async () => {
    const list = await run({ ...target(), operation: "list_resources" });
    const resources = list.resources as { uri: string; name: string }[];
    expect(resources.length).toBeGreaterThan(0);
    const first = resources[0]!;
    const read = await run({ ...target(), operation: "read_resource", resource_uri: first.uri });
    expect((read.contents as { uri: string }[])[0]!.uri).toBe(first.uri);
    const dynamic = await run({ ...target(), operation: "read_resource", resource_uri: "demo://resource/dynamic/text/7" });
    expect((dynamic.contents as { text?: string }[])[0]!.text).toMatch(/7/);
  });

  it("lists prompts and gets one with arguments", async () => {
    const list = await run({ ...target(), operation: "list_prompts" });
    expect((list.prompts as { name: string }[]).map((p) => p.name)).toEqual(expect.arrayContaining(["simple-prompt", "args-prompt"]));
    const got = await run({ ...target(), operation: "get_prompt", prompt_name: "args-prompt", arguments: { city: "Lyon", state: "Rhône" } });
    expect(got.messages).toEqual([{ role: "user", content: { type: "text", text: "What's weather in Lyon, Rhône?" } }]);
  });

  it("a long-running tool past timeout_ms fails with a timeout", async () => {
    const f = await failureOf(
      run({ ...target(), operation: "call_tool", tool_name: "trigger-long-running-operation", arguments: { duration: 60, steps: 2 }, timeout_ms: 1500 }),
    );
    expect(f.type).toBe("timeout");
    expect(f.message).toBe("mcp call_tool timed out after 1500 ms");
  });
}

describe("mcp executor ↔ server-everything over stdio", () => {
  behaviours(() => stdio);

  it("the server gets only the environment it is given: grove's secrets do not leak into it", async () => {
    process.env.GROVE_TEST_SECRET_FOR_MCP = "must-not-leak";
    try {
      const r = await run({ ...stdio, env: { GIVEN_TO_SERVER: "yes" }, operation: "call_tool", tool_name: "get-env" });
      const env = JSON.parse(r.text!) as Record<string, string>;
      expect(env.GIVEN_TO_SERVER).toBe("yes");
      expect(env.GROVE_TEST_SECRET_FOR_MCP).toBeUndefined();
    } finally {
      delete process.env.GROVE_TEST_SECRET_FOR_MCP;
    }
  });

  it("runs through the engine as a task of a tree", async () => {
    const r = await runTask("mcp", { ...stdio, operation: "call_tool", tool_name: "echo", arguments: { message: "via engine" } });
    expect(r.status).toBe("completed");
    expect(r.result.text).toBe("Echo: via engine");
  });
});

describe("mcp executor ↔ server-everything over Streamable HTTP", () => {
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    // A free port (the server takes PORT from the environment and has no "any port" mode).
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    child = spawn(process.execPath, [EVERYTHING, "streamableHttp"], { env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (d) => {
        err += d;
        if (/listening on port/i.test(err)) resolve();
      });
      child.once("exit", (code) => reject(new Error(`server-everything exited (${code}): ${err}`)));
    });
    url = `http://127.0.0.1:${port}/mcp`;
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  });

  behaviours(() => ({ transport: "http", url }));

  it("the private-address guard refuses the loopback server unless allowed, before connecting", async () => {
    const f = await failureOf(run({ transport: "http", url, operation: "list_tools" }, makeCtx({ allowPrivateNetwork: false }).ctx));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/^refusing http:\/\/127\.0\.0\.1:\d+\/mcp: 127\.0\.0\.1 is a loopback address/);
    const viaEngine = await runTask("mcp", { transport: "http", url, operation: "list_tools" });
    expect(viaEngine.status).toBe("failed");
    expect(viaEngine.error?.message).toMatch(/loopback/);
    const allowed = await runTask("mcp", { transport: "http", url, operation: "list_tools" }, { allowPrivateNetwork: true });
    expect(allowed.status).toBe("completed");
  });
});
