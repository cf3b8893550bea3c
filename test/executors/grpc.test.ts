import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as grpcJs from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import { grpc, type GrpcResult } from "../../src/executors/grpc.js";
import { readFileHeader } from "../../src/executors/grpc-reflection.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";
import { tempDir } from "../helpers/cli.js";

const HEALTH_PROTO = resolve(import.meta.dirname, "../fixtures/grpc/health.proto");
const REFLECTION_PROTO = resolve(import.meta.dirname, "../fixtures/grpc/reflection.proto");
const opts = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

// A real gRPC peer built with @grpc/grpc-js: the standard health service (Check + streaming Watch)
// and, on some servers, the reflection service, implemented from the official .proto files.
const healthDef = loader.loadSync(HEALTH_PROTO, opts);
const healthPkg = grpcJs.loadPackageDefinition(healthDef) as any;
/** The serialized FileDescriptorProtos proto-loader keeps for each type (what @grpc/reflection serves). */
const healthFiles: Buffer[] = (healthDef["grpc.health.v1.HealthCheckRequest"] as any).fileDescriptorProtos;

let calls = 0;
let cancelledWatches = 0;
const seenMetadata: Record<string, unknown>[] = [];

const healthImpl: grpcJs.UntypedServiceImplementation = {
  Check(call: grpcJs.ServerUnaryCall<any, any>, cb: grpcJs.sendUnaryData<any>) {
    calls++;
    seenMetadata.push(call.metadata.getMap());
    const service = call.request.service as string;
    if (service === "secure" && call.metadata.get("authorization")[0] !== "Bearer ok") {
      return cb({ code: grpcJs.status.UNAUTHENTICATED, details: "missing token" });
    }
    if (service === "" || service === "grove" || service === "secure") return cb(null, { status: "SERVING" });
    if (service === "down") return cb(null, { status: "NOT_SERVING" });
    if (service === "slow") return void setTimeout(() => cb(null, { status: "SERVING" }), 60_000).unref();
    cb({ code: grpcJs.status.NOT_FOUND, details: `unknown service ${service}` });
  },
  Watch(call: grpcJs.ServerWritableStream<any, any>) {
    calls++;
    call.on("cancelled", () => cancelledWatches++);
    const service = call.request.service as string;
    if (service === "flapping") {
      for (const status of ["SERVING", "NOT_SERVING", "SERVING"]) call.write({ status });
      call.end();
      return;
    }
    // Like a real Watch: the current status, then only changes (none here), forever.
    call.write({ status: "SERVING" });
  },
};

function reflectionImpl(): grpcJs.UntypedServiceImplementation {
  return {
    ServerReflectionInfo(call: grpcJs.ServerDuplexStream<any, any>) {
      call.on("data", (req: any) => {
        const reply = (r: object) => call.write({ valid_host: "", original_request: req, ...r });
        const files = (bufs: Buffer[]) => reply({ file_descriptor_response: { file_descriptor_proto: bufs } });
        if (req.message_request === "file_containing_symbol") {
          if (String(req.file_containing_symbol).startsWith("grpc.health.v1")) return files(healthFiles);
          return reply({ error_response: { error_code: grpcJs.status.NOT_FOUND, error_message: `symbol ${req.file_containing_symbol} not found` } });
        }
        if (req.message_request === "file_by_filename") {
          const match = healthFiles.filter((b) => readFileHeader(b).name === req.file_by_filename);
          if (match.length > 0) return files(match);
          return reply({ error_response: { error_code: grpcJs.status.NOT_FOUND, error_message: "file not found" } });
        }
        if (req.message_request === "list_services") return reply({ list_services_response: { service: [{ name: "grpc.health.v1.Health" }] } });
        reply({ error_response: { error_code: grpcJs.status.UNIMPLEMENTED, error_message: "not implemented" } });
      });
      call.on("end", () => call.end());
    },
  };
}

/** The reflection service definition for `version`, from the official .proto (v1 = v1alpha renamed). */
function reflectionService(version: "v1" | "v1alpha") {
  let file = REFLECTION_PROTO;
  if (version === "v1") {
    file = join(tempDir("grove-grpc-"), "reflection_v1.proto");
    writeFileSync(file, readFileSync(REFLECTION_PROTO, "utf8").replace("package grpc.reflection.v1alpha;", "package grpc.reflection.v1;"));
  }
  const pkg = grpcJs.loadPackageDefinition(loader.loadSync(file, opts)) as any;
  return pkg.grpc.reflection[version].ServerReflection.service as grpcJs.ServiceDefinition;
}

async function startServer(reflection: "v1" | "v1alpha" | null): Promise<{ server: grpcJs.Server; address: string }> {
  const server = new grpcJs.Server();
  server.addService(healthPkg.grpc.health.v1.Health.service, healthImpl);
  if (reflection) server.addService(reflectionService(reflection), reflectionImpl());
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync("127.0.0.1:0", grpcJs.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  return { server, address: `127.0.0.1:${port}` };
}

let plain: { server: grpcJs.Server; address: string };
let v1: { server: grpcJs.Server; address: string };
let v1alpha: { server: grpcJs.Server; address: string };

beforeAll(async () => {
  plain = await startServer(null);
  v1 = await startServer("v1");
  v1alpha = await startServer("v1alpha");
});

afterAll(() => {
  for (const s of [plain, v1, v1alpha]) s.server.forceShutdown();
});

const health = (server: string) => ({ server, service: "grpc.health.v1.Health" });
const run = (inputs: Record<string, unknown>) => runExecutor<GrpcResult>(grpc, inputs, makeCtx().ctx);

describe("grpc executor with a proto_file, against a grpc-js health server", () => {
  it("calls unary Check", async () => {
    const r = await run({ ...health(plain.address), method: "Check", proto_file: HEALTH_PROTO, request: { service: "grove" } });
    expect(r).toEqual({ response: { status: "SERVING" }, status: { code: 0, name: "OK", details: "" } });
    const down = await run({ ...health(plain.address), method: "Check", proto_file: HEALTH_PROTO, request: { service: "down" } });
    expect(down.response).toEqual({ status: "NOT_SERVING" });
  });

  it("sends metadata, and reports a gRPC error status with its code and details", async () => {
    const ok = await run({ ...health(plain.address), method: "Check", proto_file: HEALTH_PROTO, request: { service: "secure" }, metadata: { authorization: "Bearer ok" } });
    expect(ok.response).toEqual({ status: "SERVING" });
    expect(seenMetadata.at(-1)!.authorization).toBe("Bearer ok");
    const f = await failureOf(run({ ...health(plain.address), method: "Check", proto_file: HEALTH_PROTO, request: { service: "nope" } }));
    expect(f.message).toBe(`gRPC grpc.health.v1.Health/Check on ${plain.address} failed: NOT_FOUND (5): unknown service nope`);
    expect(f.details).toMatchObject({ code: 5, name: "NOT_FOUND" });
  });

  it("collects a server stream to its end", async () => {
    const r = await run({ ...health(plain.address), method: "Watch", proto_file: HEALTH_PROTO, request: { service: "flapping" } });
    expect(r.responses).toEqual([{ status: "SERVING" }, { status: "NOT_SERVING" }, { status: "SERVING" }]);
    expect(r.status).toMatchObject({ code: 0, name: "OK" });
  });

  it("stops an endless stream at max_responses and cancels the call", async () => {
    const before = cancelledWatches;
    const r = await run({ ...health(plain.address), method: "Watch", proto_file: HEALTH_PROTO, request: { service: "grove" }, max_responses: 1 });
    expect(r).toMatchObject({ responses: [{ status: "SERVING" }], stopped_early: true, status: { code: 0, name: "OK" } });
    await expect.poll(() => cancelledWatches).toBeGreaterThan(before);
  });

  it("times out an endless stream with the responses so far, and a slow unary call", async () => {
    const f = await failureOf(run({ ...health(plain.address), method: "Watch", proto_file: HEALTH_PROTO, request: { service: "grove" }, timeout_ms: 500 }));
    expect(f.type).toBe("timeout");
    expect(f.message).toMatch(/^gRPC grpc\.health\.v1\.Health\/Watch on 127\.0\.0\.1:\d+ timed out after 500 ms/);
    expect((f.details as { responses: unknown[] }).responses).toEqual([{ status: "SERVING" }]);
    const g = await failureOf(run({ ...health(plain.address), method: "Check", proto_file: HEALTH_PROTO, request: { service: "slow" }, timeout_ms: 500 }));
    expect(g.type).toBe("timeout");
  });

  it("names the problem with the service, the method or the file", async () => {
    const a = await failureOf(run({ server: plain.address, service: "grpc.health.v1.Nope", method: "Check", proto_file: HEALTH_PROTO }));
    expect(a.message).toBe(`service grpc.health.v1.Nope is not in proto_file ${HEALTH_PROTO} (services: grpc.health.v1.Health)`);
    const b = await failureOf(run({ ...health(plain.address), method: "Ping", proto_file: HEALTH_PROTO }));
    expect(b.message).toBe("service grpc.health.v1.Health has no method Ping (methods: Check, Watch)");
    const c = await failureOf(run({ ...health(plain.address), method: "Check", proto_file: "/no/such.proto" }));
    expect(c.message).toBe("proto_file /no/such.proto cannot be read");
  });

  it("fails clearly when nothing listens", async () => {
    const tmp = createTcpServer();
    await new Promise<void>((r) => tmp.listen(0, "127.0.0.1", () => r()));
    const port = (tmp.address() as AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    const f = await failureOf(run({ ...health(`127.0.0.1:${port}`), method: "Check", proto_file: HEALTH_PROTO, timeout_ms: 5000 }));
    expect(f.message).toMatch(/failed: UNAVAILABLE \(14\): .*(ECONNREFUSED|No connection established)/);
  });
});

describe("grpc executor with server reflection", () => {
  it("describes the service by reflection v1", async () => {
    const r = await run({ ...health(v1.address), method: "Check", request: { service: "grove" } });
    expect(r.response).toEqual({ status: "SERVING" });
    const w = await run({ ...health(v1.address), method: "Watch", request: { service: "flapping" } });
    expect(w.responses).toHaveLength(3);
  });

  it("falls back to reflection v1alpha", async () => {
    const r = await run({ ...health(v1alpha.address), method: "Check", request: {} });
    expect(r.response).toEqual({ status: "SERVING" });
  });

  it("reports a service the server does not know, and a server without reflection", async () => {
    const a = await failureOf(run({ server: v1.address, service: "acme.Nope", method: "Check" }));
    expect(a.message).toBe(`reflection on ${v1.address}: service acme.Nope: symbol acme.Nope not found`);
    const b = await failureOf(run({ ...health(plain.address), method: "Check" }));
    expect(b.message).toBe(`reflection on ${plain.address} failed: the server does not implement gRPC reflection (give proto_file)`);
  });
});

describe("grpc executor through the engine", () => {
  it("runs a Check task when private addresses are allowed", async () => {
    const t = await runTask("grpc", { ...health(v1.address), method: "Check", request: { service: "grove" } }, { allowPrivateNetwork: true });
    expect(t.status).toBe("completed");
    expect(t.result.response).toEqual({ status: "SERVING" });
  });

  it("refuses loopback and private targets without allowPrivateNetwork, before connecting", async () => {
    let connections = 0;
    const tcp = createTcpServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", () => r()));
    const port = (tcp.address() as AddressInfo).port;
    try {
      const t = await runTask("grpc", { ...health(`127.0.0.1:${port}`), method: "Check", proto_file: HEALTH_PROTO });
      expect(t.status).toBe("failed");
      expect(t.error!.message).toBe(`refusing grpc://127.0.0.1:${port}: 127.0.0.1 is a loopback address (set allowPrivateNetwork / GROVE_ALLOW_PRIVATE_NETWORK=1 to allow)`);
      const named = await runTask("grpc", { ...health(`localhost:${port}`), method: "Check", proto_file: HEALTH_PROTO });
      expect(named.error!.message).toMatch(/localhost resolves to .*loopback address/);
      const priv = await runTask("grpc", { ...health("10.1.2.3:50051"), method: "Check", proto_file: HEALTH_PROTO });
      expect(priv.error!.message).toMatch(/10\.1\.2\.3 is a private address/);
      const v6 = await runTask("grpc", { ...health(`[::1]:${port}`), method: "Check", proto_file: HEALTH_PROTO });
      expect(v6.error!.message).toMatch(/::1 is a loopback address/);
      expect(connections).toBe(0);
    } finally {
      await new Promise<void>((r) => tcp.close(() => r()));
    }
  });

  it("rejects invalid inputs naming the field", async () => {
    const before = calls;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...health("localhost"), method: "Check" }, /task "task": inputs\.server must match pattern/],
      [{ ...health(plain.address) }, /inputs\.method is required/],
      [{ server: plain.address, method: "Check" }, /inputs\.service is required/],
      [{ ...health(plain.address), method: "Check", request: "service=x" }, /inputs\.request must be object/],
      [{ ...health(plain.address), method: "Check", tls: "yes" }, /inputs\.tls/],
      [{ ...health(plain.address), method: "Check", timeout_ms: 0 }, /inputs\.timeout_ms must be > 0/],
    ];
    for (const [inputs, message] of cases) await expect(runTask("grpc", inputs, { allowPrivateNetwork: true })).rejects.toThrow(message);
    expect(calls).toBe(before);
  });
});
