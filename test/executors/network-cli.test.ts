import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { WebSocketServer } from "ws";
import * as grpcJs from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import { SMTPServer } from "smtp-server";
import { grove, tempDir } from "../helpers/cli.js";

// `grove run TREE.json` (the built CLI, a real process) with the network executors against real
// peers on loopback: a ws server, a grpc-js health server, an SDK MCP server over stdio and an
// SMTP server that receives the report built from the other tasks' results.
const HEALTH_PROTO = resolve(import.meta.dirname, "../fixtures/grpc/health.proto");
const MCP_SERVER = resolve(import.meta.dirname, "../fixtures/mcp/server.mjs");

let wss: WebSocketServer;
let grpcServer: grpcJs.Server;
let smtp: SMTPServer;
let wsUrl: string;
let grpcAddress: string;
let smtpPort: number;
const mails: string[] = [];

beforeAll(async () => {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  wss.on("connection", (s) => s.on("message", (d) => s.send(JSON.stringify({ pong: JSON.parse(d.toString()).ping }))));
  wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;

  const pkg = grpcJs.loadPackageDefinition(loader.loadSync(HEALTH_PROTO, { keepCase: true, enums: String })) as any;
  grpcServer = new grpcJs.Server();
  grpcServer.addService(pkg.grpc.health.v1.Health.service, {
    Check: (_call: unknown, cb: grpcJs.sendUnaryData<object>) => cb(null, { status: "SERVING" }),
    Watch: (call: grpcJs.ServerWritableStream<object, object>) => call.end(),
  });
  const port = await new Promise<number>((res, rej) => grpcServer.bindAsync("127.0.0.1:0", grpcJs.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  grpcAddress = `127.0.0.1:${port}`;

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, cb) {
      let raw = "";
      stream.on("data", (c: Buffer) => (raw += c.toString("utf8")));
      stream.on("end", () => {
        mails.push(raw);
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => wss.close(() => r()));
  grpcServer.forceShutdown();
  await new Promise<void>((r) => smtp.close(() => r()));
});

function tree() {
  return {
    name: "net",
    tasks: [
      { name: "ws", executor: "websocket", inputs: { url: wsUrl, message: { ping: 7 } } },
      { name: "health", executor: "grpc", inputs: { server: grpcAddress, service: "grpc.health.v1.Health", method: "Check", proto_file: HEALTH_PROTO } },
      { name: "tools", executor: "mcp", inputs: { transport: "stdio", command: [process.execPath, MCP_SERVER], operation: "call_tool", tool_name: "add", arguments: { a: 1, b: 2 } } },
      { name: "sys", executor: "system_info", inputs: { resource: "memory" } },
      {
        name: "notify",
        executor: "email",
        dependencies: ["ws", "health", "tools", "sys"],
        inputs: {
          smtp: { host: "127.0.0.1", port: smtpPort },
          from: "grove@example.test",
          to: "ops@example.test",
          subject: "grove report",
          text: "health={{ tasks.health.result.response.status }} sum={{ tasks.tools.result.text }} pong={{ tasks.ws.result.responses.0.pong }}",
        },
      },
    ],
  };
}

describe("network executors through `grove run TREE.json`", () => {
  it("runs the tree with --allow-private-network; the SMTP server gets a report built from the results", async () => {
    const dir = tempDir();
    const file = join(dir, "net.json");
    writeFileSync(file, JSON.stringify(tree()));
    const r = await grove(["run", file, "--db", join(dir, "g.db"), "--allow-private-network", "--json"], { env: { GROVE_ALLOW_PRIVATE_NETWORK: "" } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const byName = Object.fromEntries(out.tasks.map((t: any) => [t.name, t]));
    for (const name of ["ws", "health", "tools", "sys", "notify"]) expect(byName[name].status, name).toBe("completed");
    expect(byName.ws.result.responses).toEqual([{ pong: 7 }]);
    expect(byName.notify.result.accepted).toEqual(["ops@example.test"]);
    expect(mails.at(-1)).toContain("health=SERVING sum=3 pong=7");
  });

  it("without it, the network tasks are refused (the stdio MCP server and system_info still run)", async () => {
    const dir = tempDir();
    const file = join(dir, "net.json");
    writeFileSync(file, JSON.stringify(tree()));
    const sent = mails.length;
    const r = await grove(["run", file, "--db", join(dir, "g.db"), "--json"], { env: { GROVE_ALLOW_PRIVATE_NETWORK: "" } });
    expect(r.code).toBe(1);
    const byName = Object.fromEntries(JSON.parse(r.stdout).tasks.map((t: any) => [t.name, t]));
    expect(byName.ws.error.message).toMatch(/^refusing ws:\/\/127\.0\.0\.1:\d+\/: 127\.0\.0\.1 is a loopback address/);
    expect(byName.health.error.message).toMatch(/^refusing grpc:\/\/127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback address/);
    expect(byName.tools.status).toBe("completed");
    expect(byName.sys.status).toBe("completed");
    expect(byName.notify.error.type).toBe("dependency_failed");
    expect(mails.length).toBe(sent);
  });

  it("rejects a tree with a bad input before running anything, naming the task and field (exit 2)", async () => {
    const dir = tempDir();
    const file = join(dir, "bad.json");
    const t = tree();
    (t.tasks[2]!.inputs as Record<string, unknown>).tool_name = undefined;
    writeFileSync(file, JSON.stringify(t));
    const r = await grove(["run", file, "--db", join(dir, "g.db"), "--allow-private-network"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('grove: task "tools": inputs.tool_name is required');
  });
});
