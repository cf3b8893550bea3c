import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { resolve } from "node:path";
import * as grpcJs from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { grpc, type GrpcResult } from "../../src/executors/grpc.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";

// A real gRPC peer: a @grpc/grpc-js server exposing server reflection through the gRPC project's
// own @grpc/reflection (ReflectionService, v1 and v1alpha) and the standard health service
// (grpc.health.v1, from the official health.proto), plus a service whose messages import a
// well-known type. The executor gets no .proto: everything it knows comes from reflection.
const HEALTH_PROTO = resolve(import.meta.dirname, "../fixtures/grpc/health.proto");
const INVENTORY_PROTO = resolve(import.meta.dirname, "../fixtures/grpc/inventory.proto");
const LOADER = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

const ITEMS = [
  { sku: "h-1", name: "hammer", count: "9007199254740993", kind: "TOOL", updated: { seconds: "1700000000", nanos: 5 }, tags: ["steel"] },
  { sku: "n-2", name: "nail", count: "1000", kind: "PART", updated: { seconds: "1700000100", nanos: 0 }, tags: [] },
  { sku: "s-3", name: "saw", count: "3", kind: "TOOL", updated: { seconds: "1700000200", nanos: 0 }, tags: ["blade", "wood"] },
];

let server: grpcJs.Server;
let address: string;
const statuses = new Map<string, string>([
  ["", "SERVING"],
  ["grove.test.inventory.v1.Inventory", "SERVING"],
  ["maintenance", "NOT_SERVING"],
]);

beforeAll(async () => {
  const pkgDef = loader.loadSync([HEALTH_PROTO, INVENTORY_PROTO], LOADER);
  const pkg = grpcJs.loadPackageDefinition(pkgDef) as any;
  server = new grpcJs.Server();
  server.addService(pkg.grpc.health.v1.Health.service, {
    Check(call: grpcJs.ServerUnaryCall<any, any>, cb: grpcJs.sendUnaryData<any>) {
      const status = statuses.get(call.request.service);
      if (status === undefined) return cb({ code: grpcJs.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      cb(null, { status });
    },
    Watch(call: grpcJs.ServerWritableStream<any, any>) {
      call.write({ status: statuses.get(call.request.service) ?? "SERVICE_UNKNOWN" });
    },
  });
  server.addService(pkg.grove.test.inventory.v1.Inventory.service, {
    GetItem(call: grpcJs.ServerUnaryCall<any, any>, cb: grpcJs.sendUnaryData<any>) {
      const item = ITEMS.find((i) => i.sku === call.request.sku);
      if (!item) return cb({ code: grpcJs.status.NOT_FOUND, details: `no item ${call.request.sku}` });
      cb(null, item);
    },
    ListItems(call: grpcJs.ServerWritableStream<any, any>) {
      const limit = call.request.limit || ITEMS.length;
      for (const item of ITEMS.slice(0, limit)) call.write(item);
      call.end();
    },
  });
  new ReflectionService(pkgDef).addToServer(server);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync("127.0.0.1:0", grpcJs.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.tryShutdown(() => r()));
});

const run = (inputs: Record<string, unknown>, ctx = makeCtx().ctx) => runExecutor<GrpcResult>(grpc, { server: address, ...inputs }, ctx);

describe("grpc executor ↔ grpc-js server with @grpc/reflection and the health service", () => {
  it("checks health through reflection alone (no proto_file)", async () => {
    const { ctx, logs } = makeCtx();
    const r = await run({ service: "grpc.health.v1.Health", method: "Check", request: { service: "" } }, ctx);
    expect(r).toEqual({ response: { status: "SERVING" }, status: { code: 0, name: "OK", details: "" } });
    expect(logs.map((l) => l.message)).toContain("described grpc.health.v1.Health by server reflection");
    const down = await run({ service: "grpc.health.v1.Health", method: "Check", request: { service: "maintenance" } });
    expect(down.response).toEqual({ status: "NOT_SERVING" });
  });

  it("a status error from the server fails the task with its code and details", async () => {
    const f = await failureOf(run({ service: "grpc.health.v1.Health", method: "Check", request: { service: "nope" } }));
    expect(f.type).toBe("executor_error");
    expect(f.message).toBe(`gRPC grpc.health.v1.Health/Check on ${address} failed: NOT_FOUND (5): unknown service nope`);
    expect(f.details).toMatchObject({ code: 5, name: "NOT_FOUND" });
  });

  it("calls a method whose messages import a well-known type, 64-bit ints and enums as strings", async () => {
    const r = await run({ service: "grove.test.inventory.v1.Inventory", method: "GetItem", request: { sku: "h-1" } });
    expect(r.response).toEqual({
      sku: "h-1",
      name: "hammer",
      count: "9007199254740993",
      kind: "TOOL",
      updated: { seconds: "1700000000", nanos: 5 },
      tags: ["steel"],
    });
  });

  it("server streaming: all the messages in order, or the first max_responses", async () => {
    const all = await run({ service: "grove.test.inventory.v1.Inventory", method: "ListItems", request: {} });
    expect((all.responses as { sku: string }[]).map((i) => i.sku)).toEqual(["h-1", "n-2", "s-3"]);
    expect(all.status.name).toBe("OK");
    const two = await run({ service: "grove.test.inventory.v1.Inventory", method: "ListItems", request: { limit: 3 }, max_responses: 2 });
    expect((two.responses as { sku: string }[]).map((i) => i.sku)).toEqual(["h-1", "n-2"]);
    expect(two.stopped_early).toBe(true);
  });

  it("names what reflection does not know: an unknown service, an unknown method", async () => {
    const svc = await failureOf(run({ service: "grove.test.Missing", method: "Get" }));
    expect(svc.type).toBe("executor_error");
    expect(svc.message).toMatch(/grove\.test\.Missing/);
    const method = await failureOf(run({ service: "grove.test.inventory.v1.Inventory", method: "Delete" }));
    expect(method.message).toBe("service grove.test.inventory.v1.Inventory has no method Delete (methods: GetItem, ListItems)");
  });

  it("through the engine: refused on loopback unless allowed, then runs", async () => {
    const inputs = { server: address, service: "grpc.health.v1.Health", method: "Check", request: { service: "" } };
    const refused = await runTask("grpc", inputs);
    expect(refused.status).toBe("failed");
    expect(refused.error?.message).toMatch(/127\.0\.0\.1 is a loopback address/);
    const ok = await runTask("grpc", inputs, { allowPrivateNetwork: true });
    expect(ok.status).toBe("completed");
    expect(ok.result.response).toEqual({ status: "SERVING" });
  });
});
