import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { websocket, type WebSocketResult } from "../../src/executors/websocket.js";
import { publicLookup } from "../../src/executors/net-target.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";

// A real WebSocket peer (the `ws` package's server) on loopback. Paths choose its behaviour.
let wss: WebSocketServer;
let base: string;
let connections = 0;
const handshakes: Record<string, string | string[] | undefined>[] = [];

beforeAll(async () => {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: (p) => (p.has("chat.v1") ? "chat.v1" : false) });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  base = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  wss.on("connection", (socket: WebSocket, req) => {
    connections++;
    handshakes.push(req.headers);
    const path = req.url ?? "/";
    if (path === "/greet") socket.send("welcome");
    if (path === "/binary") socket.send(Buffer.from([1, 2, 3]), { binary: true });
    if (path === "/close") socket.close(4001, "go away");
    socket.on("message", (data, isBinary) => {
      if (path === "/silent") return;
      const text = isBinary ? "" : data.toString();
      if (path === "/twice") {
        socket.send(`${text}#1`);
        socket.send(`${text}#2`);
        return;
      }
      // echo, wrapped in JSON so parse_json shows
      socket.send(JSON.stringify({ echo: text }));
    });
  });
});

afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
});

const run = (inputs: Record<string, unknown>, opts: { allowPrivateNetwork?: boolean } = {}) =>
  runExecutor<WebSocketResult>(websocket, inputs, makeCtx(opts).ctx);

describe("websocket executor against a ws server", () => {
  it("sends a JSON message and returns the parsed reply", async () => {
    const r = await run({ url: `${base}/echo`, message: { hello: "world" } });
    expect(r.responses).toEqual([{ echo: '{"hello":"world"}' }]);
    expect(r.sent).toBe(1);
    expect(r.url).toBe(`${base}/echo`);
  });

  it("sends several messages and waits for one reply per message by default", async () => {
    const r = await run({ url: `${base}/echo`, messages: ["a", "b", "c"] });
    expect(r.responses).toEqual([{ echo: "a" }, { echo: "b" }, { echo: "c" }]);
    expect(r.sent).toBe(3);
  });

  it("wait_response as a count collects exactly that many frames; parse_json false keeps text", async () => {
    const r = await run({ url: `${base}/twice`, messages: ["x", "y"], wait_response: 4, parse_json: false });
    expect(r.responses).toEqual(["x#1", "x#2", "y#1", "y#2"]);
  });

  it("receives without sending, returns binary frames as base64, and sends handshake headers and subprotocols", async () => {
    const greet = await run({ url: `${base}/greet`, headers: { "x-token": "abc" }, protocols: ["chat.v1"] });
    expect(greet.responses).toEqual(["welcome"]);
    expect(greet.protocol).toBe("chat.v1");
    expect(handshakes.at(-1)!["x-token"]).toBe("abc");
    const bin = await run({ url: `${base}/binary` });
    expect(bin.responses).toEqual([{ base64: Buffer.from([1, 2, 3]).toString("base64") }]);
  });

  it("wait_response false returns once the messages are sent", async () => {
    const r = await run({ url: `${base}/silent`, message: "fire and forget", wait_response: false });
    expect(r).toMatchObject({ responses: [], sent: 1 });
  });

  it("times out with the responses so far when the server stays silent", async () => {
    const f = await failureOf(run({ url: `${base}/silent`, message: "hello?", timeout_ms: 300 }));
    expect(f.type).toBe("timeout");
    expect(f.message).toMatch(/websocket ws:\/\/127\.0\.0\.1:\d+\/silent timed out after 300 ms \(0 of 1 responses received\)/);
  });

  it("reports the server closing early with its code and reason", async () => {
    const f = await failureOf(run({ url: `${base}/close` }));
    expect(f.message).toMatch(/closed by the server \(code 4001: go away\) after 0 of 1 responses/);
  });

  it("fails clearly when nothing listens", async () => {
    const { WebSocketServer: S } = await import("ws");
    const tmp = new S({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => tmp.once("listening", () => r()));
    const port = (tmp.address() as AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    const f = await failureOf(run({ url: `ws://127.0.0.1:${port}/`, message: "x", timeout_ms: 5000 }));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/websocket ws:\/\/127\.0\.0\.1:\d+\/ failed: .*ECONNREFUSED/);
  });
});

describe("websocket executor through the engine", () => {
  it("runs as a task when private addresses are allowed", async () => {
    const t = await runTask("websocket", { url: `${base}/echo`, message: "via engine" }, { allowPrivateNetwork: true });
    expect(t.status).toBe("completed");
    expect(t.result.responses).toEqual([{ echo: "via engine" }]);
  });

  it("refuses loopback without allowPrivateNetwork, before connecting", async () => {
    const before = connections;
    const t = await runTask("websocket", { url: `${base}/echo`, message: "x" });
    expect(t.status).toBe("failed");
    expect(t.error!.message).toMatch(/refusing ws:\/\/127\.0\.0\.1:\d+\/echo: 127\.0\.0\.1 is a loopback address/);
    const named = await runTask("websocket", { url: `ws://localhost:${new URL(base).port}/echo`, message: "x" });
    expect(named.error!.message).toMatch(/localhost resolves to .*, which is a loopback address/);
    expect(connections).toBe(before);
  });

  it("rejects invalid inputs before any connection, naming the field", async () => {
    const before = connections;
    await expect(runTask("websocket", { url: `http://127.0.0.1/` }, { allowPrivateNetwork: true })).rejects.toThrow(/task "task": inputs\.url must match pattern/);
    await expect(runTask("websocket", { url: `${base}/echo`, wait_response: "yes" }, { allowPrivateNetwork: true })).rejects.toThrow(/inputs\.wait_response/);
    await expect(runTask("websocket", { url: `${base}/echo`, timeout_ms: -1 }, { allowPrivateNetwork: true })).rejects.toThrow(/inputs\.timeout_ms must be > 0/);
    await expect(runTask("websocket", { message: "x" }, { allowPrivateNetwork: true })).rejects.toThrow(/inputs\.url is required/);
    expect(connections).toBe(before);
  });

  it("the socket's own lookup refuses names that resolve to private addresses (no DNS-rebinding window)", async () => {
    const lookup = publicLookup({ allowPrivateNetwork: false });
    const err = await new Promise<NodeJS.ErrnoException | null>((r) => lookup("localhost", { all: true }, (e) => r(e)));
    expect(err?.code).toBe("EPRIVATEADDRESS");
    const ok = await new Promise<unknown>((r) => publicLookup({ allowPrivateNetwork: true })("localhost", {}, (_e, a) => r(a)));
    expect(typeof ok).toBe("string");
  });
});
