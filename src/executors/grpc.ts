import { promises as fsp } from "node:fs";
import { z } from "zod";
import { defineExecutor, type ExecutorContext } from "../core/executor.js";
import { TaskFailure } from "../core/errors.js";
import { abortFailure, assertPublicHost, BACKSTOP_MS, deadline, errorText } from "./net-target.js";

export const GrpcInput = z.strictObject({
  server: z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, "must be host:port")
    .describe("host:port ([::1]:50051 for IPv6)"),
  service: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.]*$/)
    .describe("Fully-qualified service name, e.g. grpc.health.v1.Health"),
  method: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).describe("Method name, e.g. Check"),
  request: z.record(z.string(), z.unknown()).default({}).describe("The request message as JSON (field names as in the .proto)"),
  proto_file: z.string().min(1).optional().describe("The .proto that defines the service; without it, server reflection is used"),
  include_dirs: z.array(z.string().min(1)).optional().describe("Directories searched for the proto_file's imports"),
  metadata: z.record(z.string(), z.string()).optional().describe("Request metadata (headers)"),
  tls: z
    .union([
      z.boolean(),
      z.strictObject({
        ca: z.string().optional().describe("PEM CA certificate(s) to trust instead of the system's"),
        server_name: z.string().optional().describe("Name to verify the certificate against"),
      }),
    ])
    .default(false)
    .describe("false: plaintext; true: TLS with the system CAs; {ca, server_name}: TLS with these"),
  max_responses: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Server streaming: stop after this many responses (the call is cancelled)"),
  timeout_ms: z.number().int().positive().default(30_000).describe("The call's deadline (reflection included)"),
});

const Status = z.object({ code: z.number().int(), name: z.string(), details: z.string() });

export const GrpcOutput = z.object({
  response: z.unknown().optional().describe("Unary: the response message"),
  responses: z.array(z.unknown()).optional().describe("Server streaming: the messages, in order"),
  stopped_early: z.boolean().optional().describe("Server streaming: max_responses was reached and the call cancelled"),
  status: Status,
});

export type GrpcInputs = z.output<typeof GrpcInput>;
export type GrpcResult = z.infer<typeof GrpcOutput>;

export const grpc = defineExecutor({
  id: "grpc",
  name: "gRPC call",
  description:
    "Calls a unary or server-streaming gRPC method, described by proto_file or by the server's reflection " +
    "service, and returns {response | responses, status}. Private and link-local addresses are refused " +
    "unless allowPrivateNetwork is set.",
  input: GrpcInput,
  output: GrpcOutput,
  cancelable: true,
  execute: (inputs, ctx) => call(inputs, ctx),
});

/** proto-loader's conversion: field names as written, 64-bit ints and enums as strings, bytes as base64. */
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, bytes: String, defaults: true, oneofs: true };

function splitServer(server: string): { host: string; port: number } {
  const i = server.lastIndexOf(":");
  const host = server.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  const port = Number(server.slice(i + 1));
  if (!(port >= 1 && port <= 65535)) throw new TaskFailure("validation_error", `inputs.server port ${port} is out of range`);
  return { host, port };
}

interface MethodDef {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(v: unknown): Buffer;
  responseDeserialize(b: Buffer): unknown;
}

async function call(inputs: GrpcInputs, ctx: ExecutorContext): Promise<GrpcResult> {
  const { host, port } = splitServer(inputs.server);
  const timeoutMs = inputs.timeout_ms ?? 30_000;
  const fq = `${inputs.service}/${inputs.method}`;
  const what = `gRPC ${fq} on ${inputs.server}`;
  if (inputs.proto_file !== undefined) {
    try {
      await fsp.access(inputs.proto_file);
    } catch {
      throw new TaskFailure("executor_error", `proto_file ${inputs.proto_file} cannot be read`);
    }
  }
  const { signal, done } = deadline(ctx.signal, timeoutMs, what);
  // The gRPC deadline is a backstop (and tells the server when to give up); our timer reports first.
  const end = new Date(Date.now() + timeoutMs + BACKSTOP_MS);
  let client: import("@grpc/grpc-js").Client | undefined;
  try {
    await assertPublicHost("grpc", host, port, ctx.settings, signal);
    signal.throwIfAborted();
    const grpcJs = await import("@grpc/grpc-js");
    const loader = await import("@grpc/proto-loader");

    const tls = inputs.tls ?? false;
    const credentials =
      tls === false
        ? grpcJs.credentials.createInsecure()
        : grpcJs.credentials.createSsl(tls !== true && tls.ca !== undefined ? Buffer.from(tls.ca) : null);
    const options: import("@grpc/grpc-js").ChannelOptions = {};
    if (tls !== false && tls !== true && tls.server_name) options["grpc.ssl_target_name_override"] = tls.server_name;
    const metadata = new grpcJs.Metadata();
    for (const [k, v] of Object.entries(inputs.metadata ?? {})) {
      try {
        metadata.add(k, v);
      } catch (err) {
        throw new TaskFailure("validation_error", `inputs.metadata.${k}: ${errorText(err)}`);
      }
    }

    let pkg: import("@grpc/proto-loader").PackageDefinition;
    if (inputs.proto_file !== undefined) {
      try {
        pkg = await loader.load(inputs.proto_file, { ...LOADER_OPTIONS, includeDirs: inputs.include_dirs });
      } catch (err) {
        throw new TaskFailure("executor_error", `proto_file ${inputs.proto_file}: ${errorText(err)}`);
      }
    } else {
      const { reflectService } = await import("./grpc-reflection.js");
      pkg = await reflectService(grpcJs, loader, inputs.service, { address: inputs.server, credentials, options, metadata, deadline: end, signal }, LOADER_OPTIONS);
      ctx.log(`described ${inputs.service} by server reflection`);
    }
    const def = findMethod(pkg, inputs.service, inputs.method, inputs.proto_file);
    if (def.requestStream) {
      throw new TaskFailure("executor_error", `${fq} is ${def.responseStream ? "bidirectional" : "client"}-streaming; only unary and server-streaming methods are supported`);
    }

    client = new grpcJs.Client(inputs.server, credentials, options);
    let request: Buffer;
    try {
      request = def.requestSerialize(inputs.request ?? {});
    } catch (err) {
      throw new TaskFailure("validation_error", `inputs.request does not fit ${fq}'s request message: ${errorText(err)}`);
    }
    const identity = (b: Buffer) => b;
    const statusName = (code: number) => grpcJs.status[code] ?? String(code);
    const failure = (err: { code?: number; details?: string; message?: string }, extra: Record<string, unknown> = {}) => {
      const code = err.code ?? grpcJs.status.UNKNOWN;
      const name = statusName(code);
      if (code === grpcJs.status.DEADLINE_EXCEEDED) return new TaskFailure("timeout", `${what} timed out after ${timeoutMs} ms`, extra);
      return new TaskFailure("executor_error", `${what} failed: ${name} (${code}): ${err.details ?? err.message ?? ""}`, {
        code,
        name,
        details: err.details,
        ...extra,
      });
    };

    if (!def.responseStream) {
      const c = client;
      const response = await new Promise<Buffer>((resolve, reject) => {
        const unary = c.makeUnaryRequest(def.path, identity, identity, request, metadata, { deadline: end }, (err, value) => {
          signal.removeEventListener("abort", onAbort);
          if (err) reject(signal.aborted ? abortFailure(signal, what) : failure(err));
          else resolve(value!);
        });
        const onAbort = () => unary.cancel();
        signal.addEventListener("abort", onAbort, { once: true });
      });
      return { response: def.responseDeserialize(response), status: { code: 0, name: "OK", details: "" } };
    }

    const max = inputs.max_responses;
    const responses: unknown[] = [];
    const stream = client.makeServerStreamRequest(def.path, identity, identity, request, metadata, { deadline: end });
    return await new Promise<GrpcResult>((resolve, reject) => {
      let stoppedEarly = false;
      const onAbort = () => stream.cancel();
      signal.addEventListener("abort", onAbort, { once: true });
      stream.on("data", (chunk: Buffer) => {
        if (stoppedEarly) return;
        responses.push(def.responseDeserialize(chunk));
        if (max !== undefined) ctx.progress(responses.length / max);
        if (max !== undefined && responses.length >= max) {
          stoppedEarly = true;
          stream.cancel();
        }
      });
      stream.on("error", (err: { code?: number; details?: string; message?: string }) => {
        signal.removeEventListener("abort", onAbort);
        if (stoppedEarly) resolve({ responses, stopped_early: true, status: { code: 0, name: "OK", details: `stopped after ${max} responses` } });
        else if (signal.aborted) {
          const f = abortFailure(signal, what);
          reject(new TaskFailure(f.type, `${f.message} (${responses.length} responses received)`, { responses }));
        } else reject(failure(err, { responses }));
      });
      stream.on("status", (s: { code: number; details: string }) => {
        if (s.code !== grpcJs.status.OK) return; // reported by "error"
        signal.removeEventListener("abort", onAbort);
        resolve({ responses, ...(stoppedEarly ? { stopped_early: true } : {}), status: { code: 0, name: "OK", details: s.details } });
      });
    });
  } catch (err) {
    if (signal.aborted && !(err instanceof TaskFailure)) throw abortFailure(signal, what);
    if (err instanceof TaskFailure) throw err;
    throw new TaskFailure("executor_error", `${what} failed: ${errorText(err)}`);
  } finally {
    done();
    client?.close();
  }
}

function findMethod(pkg: import("@grpc/proto-loader").PackageDefinition, service: string, method: string, protoFile: string | undefined): MethodDef {
  const from = protoFile ? `proto_file ${protoFile}` : "the server's reflection";
  const svc = pkg[service] as Record<string, MethodDef> | undefined;
  if (!svc || typeof svc !== "object" || "format" in svc) {
    const services = Object.entries(pkg)
      .filter(([, v]) => v && typeof v === "object" && !("format" in v) && !("type" in v))
      .map(([k]) => k);
    throw new TaskFailure("executor_error", `service ${service} is not in ${from} (services: ${services.join(", ") || "none"})`);
  }
  const def = svc[method];
  if (!def) throw new TaskFailure("executor_error", `service ${service} has no method ${method} (methods: ${Object.keys(svc).join(", ")})`);
  return def;
}
