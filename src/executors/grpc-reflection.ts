// A client of the gRPC server reflection protocol (grpc.reflection.v1 ServerReflection, with a
// fallback to v1alpha), used by the grpc executor when no proto_file is given. It fetches the
// FileDescriptorProtos that define a service (and their imports), which proto-loader turns into
// the same package definition a .proto file would give.
import { TaskFailure } from "../core/errors.js";

type Grpc = typeof import("@grpc/grpc-js");
type ProtoLoader = typeof import("@grpc/proto-loader");
type PackageDefinition = import("@grpc/proto-loader").PackageDefinition;

/** The reflection service's messages, in protobufjs JSON form (no .proto file to ship). */
function reflectionJson(version: "v1" | "v1alpha") {
  const str = (id: number) => ({ type: "string", id });
  return {
    nested: {
      grpc: {
        nested: {
          reflection: {
            nested: {
              [version]: {
                nested: {
                  ServerReflection: {
                    methods: {
                      ServerReflectionInfo: {
                        requestType: "ServerReflectionRequest",
                        requestStream: true,
                        responseType: "ServerReflectionResponse",
                        responseStream: true,
                      },
                    },
                  },
                  ServerReflectionRequest: {
                    oneofs: { messageRequest: { oneof: ["fileByFilename", "fileContainingSymbol", "listServices"] } },
                    fields: { host: str(1), fileByFilename: str(3), fileContainingSymbol: str(4), listServices: str(7) },
                  },
                  ServerReflectionResponse: {
                    oneofs: { messageResponse: { oneof: ["fileDescriptorResponse", "listServicesResponse", "errorResponse"] } },
                    fields: {
                      validHost: str(1),
                      fileDescriptorResponse: { type: "FileDescriptorResponse", id: 4 },
                      listServicesResponse: { type: "ListServiceResponse", id: 6 },
                      errorResponse: { type: "ErrorResponse", id: 7 },
                    },
                  },
                  FileDescriptorResponse: { fields: { fileDescriptorProto: { rule: "repeated", type: "bytes", id: 1 } } },
                  ListServiceResponse: { fields: { service: { rule: "repeated", type: "ServiceResponse", id: 1 } } },
                  ServiceResponse: { fields: { name: str(1) } },
                  ErrorResponse: { fields: { errorCode: { type: "int32", id: 1 }, errorMessage: str(2) } },
                },
              },
            },
          },
        },
      },
    },
  };
}

interface ReflectionResponse {
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  listServicesResponse?: { service: { name: string }[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

export interface ReflectionTarget {
  address: string;
  credentials: import("@grpc/grpc-js").ChannelCredentials;
  options: import("@grpc/grpc-js").ChannelOptions;
  metadata: import("@grpc/grpc-js").Metadata;
  deadline: Date;
  signal: AbortSignal;
}

/**
 * The package definition for `service`, from the server's reflection service. Tries v1, then
 * v1alpha when the server does not implement v1 (many servers still only have v1alpha).
 */
export async function reflectService(
  grpc: Grpc,
  loader: ProtoLoader,
  service: string,
  target: ReflectionTarget,
  loaderOptions: import("@grpc/proto-loader").Options,
): Promise<PackageDefinition> {
  let lastErr: unknown;
  for (const version of ["v1", "v1alpha"] as const) {
    try {
      const files = await fetchFiles(grpc, loader, version, service, target);
      return loader.loadFileDescriptorSetFromBuffer(fileDescriptorSet(files), loaderOptions);
    } catch (err) {
      lastErr = err;
      if ((err as { code?: number }).code !== grpc.status.UNIMPLEMENTED) break;
    }
  }
  if (lastErr instanceof TaskFailure) throw lastErr;
  const e = lastErr as { code?: number; details?: string; message?: string };
  const why = e.code === grpc.status.UNIMPLEMENTED ? "the server does not implement gRPC reflection (give proto_file)" : (e.details ?? e.message ?? String(lastErr));
  throw new TaskFailure("executor_error", `reflection on ${target.address} failed: ${why}`, { code: e.code });
}

async function fetchFiles(grpc: Grpc, loader: ProtoLoader, version: "v1" | "v1alpha", service: string, t: ReflectionTarget): Promise<Map<string, Buffer>> {
  const def = loader.fromJSON(reflectionJson(version) as Parameters<ProtoLoader["fromJSON"]>[0], { keepCase: true, defaults: false, oneofs: true });
  const Ctor = grpc.loadPackageDefinition(def).grpc as any;
  const client: import("@grpc/grpc-js").Client = new Ctor.reflection[version].ServerReflection(t.address, t.credentials, t.options);
  const call = (client as any).ServerReflectionInfo(t.metadata, { deadline: t.deadline }) as import("@grpc/grpc-js").ClientDuplexStream<object, ReflectionResponse>;
  const onAbort = () => call.cancel();
  t.signal.addEventListener("abort", onAbort, { once: true });

  const files = new Map<string, Buffer>();
  const asked = new Set<string>();
  // One request at a time: each answer may name imports that are not known yet.
  const responses = call[Symbol.asyncIterator]();
  const ask = async (req: Record<string, string>): Promise<ReflectionResponse> => {
    call.write(req);
    const next = await responses.next();
    if (next.done) throw new TaskFailure("executor_error", `reflection on ${t.address}: the server closed the stream`);
    return next.value;
  };
  try {
    const add = (r: ReflectionResponse, what: string) => {
      if (r.errorResponse) {
        throw new TaskFailure(
          "executor_error",
          `reflection on ${t.address}: ${what}: ${r.errorResponse.errorMessage || `error ${r.errorResponse.errorCode}`}`,
          { code: r.errorResponse.errorCode },
        );
      }
      for (const bytes of r.fileDescriptorResponse?.fileDescriptorProto ?? []) {
        const { name } = readFileHeader(bytes);
        files.set(name, Buffer.from(bytes));
      }
    };
    asked.add(`symbol:${service}`);
    add(await ask({ fileContainingSymbol: service }), `service ${service}`);
    // Fetch imports the server did not send along (the spec lets it send only unseen files).
    for (;;) {
      const missing = [...files.values()].flatMap((b) => readFileHeader(b).dependencies).filter((d) => !files.has(d) && !asked.has(d));
      if (missing.length === 0) break;
      for (const dep of missing) {
        asked.add(dep);
        add(await ask({ fileByFilename: dep }), `file ${dep}`);
      }
    }
    return files;
  } finally {
    t.signal.removeEventListener("abort", onAbort);
    call.end();
    call.cancel();
    client.close();
  }
}

/** A FileDescriptorSet (field 1: repeated FileDescriptorProto), encoded by hand. */
function fileDescriptorSet(files: Map<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const bytes of files.values()) parts.push(Buffer.from([0x0a]), varint(bytes.length), bytes);
  return Buffer.concat(parts);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/**
 * Reads `name` (field 1) and `dependency` (field 3) of a FileDescriptorProto from the wire
 * format, skipping every other field — all that is needed to know which imports are missing.
 */
export function readFileHeader(buf: Uint8Array): { name: string; dependencies: string[] } {
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error("truncated FileDescriptorProto");
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
  };
  let name = "";
  const dependencies: string[] = [];
  while (pos < buf.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) readVarint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = readVarint();
      const text = Buffer.from(buf.subarray(pos, pos + len)).toString("utf8");
      if (field === 1) name = text;
      else if (field === 3) dependencies.push(text);
      pos += len;
    } else throw new Error(`unsupported wire type ${wire} in FileDescriptorProto`);
  }
  return { name, dependencies };
}
