import { request as httpRequest, type IncomingMessage } from "node:http";
import { promises as fsp } from "node:fs";
import { dirname, basename, isAbsolute, join, resolve as resolvePath, sep } from "node:path";
import { randomBytes } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import { z } from "zod";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import { TaskFailure } from "../core/errors.js";
import { TailBuffer } from "./command.js";
import { abortFailure, deadline, errorText } from "./net-target.js";

/**
 * Runs one command in a container through the Docker Engine API, spoken as plain HTTP over the
 * engine's Unix socket (node:http with `socketPath`; no client library): create, start, follow the
 * logs (stdout/stderr demultiplexed), wait, remove. Any engine that serves this API works (Docker,
 * podman's `podman system service`).
 *
 * Security: bind mounts are the hole (apflow's docker executor is the model here): a host path that
 * is, is inside, or contains a sensitive path (/etc, /proc, /sys, /dev, /root, /boot, /run,
 * /var/run, the engines' state directories, the engine socket itself; so "/" too) is refused
 * after resolving symlinks, before any API call, unless the worker's environment allows it
 * (GROVE_DOCKER_ALLOW_SENSITIVE_MOUNTS=1, or a ':'-separated list of the host paths allowed).
 * Mounts are read-only unless a volume says otherwise. Containers are never privileged.
 */

/** The Engine API version asked for (Docker 20.10+, podman's compat API). */
const API = "/v1.41";
const DEFAULT_SOCKET = "/var/run/docker.sock";
/** How long cleanup (kill + remove) may take once the task has ended or timed out. */
const CLEANUP_MS = 10_000;
const STDERR_TAIL_CHARS = 500;
const MAX_LOG_LINE_CHARS = 16 * 1024;

const SENSITIVE_PATHS = [
  "/etc",
  "/proc",
  "/sys",
  "/dev",
  "/root",
  "/boot",
  "/run",
  "/var/run",
  "/var/lib/docker",
  "/var/lib/containers",
];

const Volume = z.union([
  z
    .string()
    .regex(/^\/[^:,]*(:(ro|rw))?$/, "must be an absolute container path, optionally with :ro or :rw")
    .describe("Container path (read-only unless it ends with :rw)"),
  z.strictObject({
    path: z.string().regex(/^\/[^:,]*$/, "must be an absolute container path").describe("Container path"),
    read_only: z.boolean().default(true),
  }),
]);

export const DockerInput = z.strictObject({
  image: z
    .string()
    .min(1)
    .regex(/^[^\s]+$/, "must not contain spaces")
    .describe("Image reference, e.g. python:3.12-slim or registry.example.com/app@sha256:…"),
  command: z
    .union([z.string().min(1), z.array(z.string()).min(1)])
    .optional()
    .describe("A string runs as `/bin/sh -c <command>` in the container; an array runs as is; omitted: the image's default"),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
    .optional()
    .describe("Environment variables of the container (the worker's environment is not passed)"),
  volumes: z
    .record(z.string().regex(/^\//, "must be an absolute host path"), Volume)
    .optional()
    .describe("Bind mounts {host path: container path}; read-only by default; sensitive host paths are refused"),
  working_dir: z.string().regex(/^\//, "must be an absolute path").optional().describe("Working directory in the container"),
  user: z.string().min(1).optional().describe("User (name or uid[:gid]) the command runs as"),
  network: z.enum(["default", "none"]).default("default").describe("none: the container gets no network"),
  resources: z
    .strictObject({
      cpu: z
        .union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?$/, "must be a number of CPUs, e.g. \"1.5\"")])
        .optional()
        .describe("CPUs, e.g. 0.5 or \"1.5\""),
      memory: z
        .union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?\s*([kmgt]i?b?|b)?$/i, "must be bytes or e.g. \"512m\", \"1g\"")])
        .optional()
        .describe("Memory limit: bytes, or \"512m\", \"1g\""),
    })
    .optional(),
  pull: z
    .enum(["missing", "never"])
    .default("missing")
    .describe("missing: pull the image when the engine does not have it; never: fail instead"),
  remove: z.boolean().default(true).describe("Remove the container when it has finished (it is always removed on timeout/cancel)"),
  allow_failure: z.boolean().default(false).describe("A non-zero exit code does not fail the task"),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .default(60_000)
    .describe("Kill and remove the container after this many milliseconds (pulling included)"),
});

export const DockerOutput = z.object({
  container_id: z.string(),
  exit_code: z.number().int(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean().optional().describe("Set when stdout or stderr was cut to its last outputCapBytes bytes"),
  removed: z.boolean().describe("Whether the container was removed"),
});

export type DockerInputs = z.output<typeof DockerInput>;
export type DockerResult = z.infer<typeof DockerOutput>;

export interface DockerOptions {
  /** The engine socket; default: DOCKER_HOST (unix://…) or /var/run/docker.sock, read at run time. */
  socketPath?: string;
  /** The environment read for DOCKER_HOST and GROVE_DOCKER_ALLOW_SENSITIVE_MOUNTS (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export function makeDockerExecutor(opts: DockerOptions = {}): Executor {
  return defineExecutor({
    id: "docker",
    name: "Docker container",
    description:
      "Runs a command in a new container through the Docker Engine API on its Unix socket (DOCKER_HOST=unix://… " +
      "or /var/run/docker.sock; podman's API service works too) and returns {exit_code, stdout, stderr}; a non-zero " +
      "exit fails the task unless allow_failure is set. Bind mounts are read-only by default; sensitive host paths " +
      "(/etc, /proc, /sys, /dev, /root, the engine socket, …) are refused unless GROVE_DOCKER_ALLOW_SENSITIVE_MOUNTS allows them.",
    input: DockerInput,
    output: DockerOutput,
    cancelable: true,
    execute: (inputs, ctx) => runContainer(inputs, ctx, opts),
  });
}

export const docker = makeDockerExecutor();

/** The engine's socket path from DOCKER_HOST (only unix:// is supported) or the default. */
export function dockerSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return DEFAULT_SOCKET;
  if (host.startsWith("unix://")) return host.slice("unix://".length);
  if (host.startsWith("/")) return host;
  throw new TaskFailure("executor_error", `DOCKER_HOST=${host} is not supported: the docker executor speaks to a unix:// socket only`);
}

// ---- volumes ----

/** The realpath of `p`, or of its longest existing ancestor with the rest appended. */
async function realPathLoose(p: string): Promise<string> {
  const abs = resolvePath(p);
  try {
    return await fsp.realpath(abs);
  } catch {
    const parent = dirname(abs);
    if (parent === abs) return abs;
    return join(await realPathLoose(parent), basename(abs));
  }
}

function within(child: string, parent: string): boolean {
  return child === parent || parent === "/" || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

interface Bind {
  host: string;
  container: string;
  readOnly: boolean;
}

/**
 * The binds for the create call, after the sensitive-path check. Throws (validation_error, naming
 * the volume) before any connection is made.
 */
export async function checkVolumes(
  volumes: DockerInputs["volumes"],
  socketPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Bind[]> {
  if (!volumes) return [];
  const allow = (env.GROVE_DOCKER_ALLOW_SENSITIVE_MOUNTS ?? "").trim();
  const allowAll = allow === "1" || allow === "true";
  const allowed = allowAll ? [] : await Promise.all(allow.split(":").filter((p) => p.startsWith("/")).map(realPathLoose));
  const sensitive = await Promise.all([...SENSITIVE_PATHS, socketPath, DEFAULT_SOCKET].map(realPathLoose));
  const binds: Bind[] = [];
  for (const [host, spec] of Object.entries(volumes)) {
    if (!isAbsolute(host)) throw new TaskFailure("validation_error", `inputs.volumes: host path ${JSON.stringify(host)} must be absolute`);
    if (host.includes(":") || host.includes(",")) {
      throw new TaskFailure("validation_error", `inputs.volumes: host path ${JSON.stringify(host)} must not contain ':' or ','`);
    }
    let container: string;
    let readOnly: boolean;
    if (typeof spec === "string") {
      const m = /^(.*?)(?::(ro|rw))?$/.exec(spec)!;
      container = m[1]!;
      readOnly = m[2] !== "rw";
    } else {
      container = spec.path;
      readOnly = spec.read_only ?? true;
    }
    const real = await realPathLoose(host);
    if (!allowAll && !allowed.some((a) => real === a)) {
      const hit = sensitive.find((s) => within(real, s) || within(s, real));
      if (hit) {
        const via = real !== resolvePath(host) ? ` (it resolves to ${real})` : "";
        throw new TaskFailure(
          "validation_error",
          `inputs.volumes: refusing to mount ${host}${via}: it ${within(real, hit) ? "is inside" : "contains"} the sensitive host path ${hit} ` +
            `(set GROVE_DOCKER_ALLOW_SENSITIVE_MOUNTS=1, or to a ':'-separated list of allowed host paths, on the worker to allow)`,
          { volume: host, sensitive: hit },
        );
      }
    }
    binds.push({ host: real, container, readOnly });
  }
  return binds;
}

/** Bytes for "512m", "1g", "1.5GiB", 1048576. */
export function parseMemory(v: string | number): number {
  if (typeof v === "number") return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v.trim());
  if (!m) throw new TaskFailure("validation_error", `inputs.resources.memory ${JSON.stringify(v)} is not a size`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"];
  return Math.floor(Number(m[1]) * mult);
}

// ---- the Engine API over the socket ----

class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Call {
  method: string;
  path: string;
  body?: unknown;
  signal?: AbortSignal;
}

/** Sends one request; resolves with the response (body not read) for 2xx, rejects with EngineError otherwise. */
function send(socketPath: string, call: Call): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
    const req = httpRequest(
      {
        socketPath,
        method: call.method,
        path: API + call.path,
        headers: { host: "docker", ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}) },
        signal: call.signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        readAll(res).then(
          (buf) => {
            let message = buf.toString("utf8").trim();
            try {
              message = (JSON.parse(message) as { message?: string }).message ?? message;
            } catch {
              // not JSON: keep the text
            }
            reject(new EngineError(status, message || `HTTP ${status}`));
          },
          reject,
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks)));
    res.on("error", reject);
  });
}

async function json<T>(socketPath: string, call: Call): Promise<T> {
  const res = await send(socketPath, call);
  const buf = await readAll(res);
  return (buf.length > 0 ? JSON.parse(buf.toString("utf8")) : {}) as T;
}

/**
 * Splits the engine's multiplexed stream (Tty false): frames of an 8-byte header (stream type:
 * 1 stdout, 2 stderr; 3 zero bytes; big-endian payload length) followed by the payload.
 */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: "stdout" | "stderr", payload: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) return;
      const type = this.pending[0];
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      this.onFrame(type === 2 ? "stderr" : "stdout", payload);
    }
  }
}

/** Streams complete lines of one stream to ctx.log, at most `cap` bytes in all. */
class Lines {
  private partial = "";
  private logged = 0;
  private readonly decoder = new StringDecoder("utf8");
  constructor(
    private readonly ctx: ExecutorContext,
    private readonly stream: "stdout" | "stderr",
    private readonly cap: number,
  ) {}
  push(chunk: Buffer): void {
    this.partial += this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.partial.indexOf("\n")) >= 0) {
      this.emit(this.partial.slice(0, nl).replace(/\r$/, ""));
      this.partial = this.partial.slice(nl + 1);
    }
    while (this.partial.length > MAX_LOG_LINE_CHARS) {
      this.emit(this.partial.slice(0, MAX_LOG_LINE_CHARS));
      this.partial = this.partial.slice(MAX_LOG_LINE_CHARS);
    }
  }
  end(): void {
    this.partial += this.decoder.end();
    if (this.partial) this.emit(this.partial);
    this.partial = "";
  }
  private emit(line: string): void {
    if (this.logged > this.cap) return;
    this.logged += Buffer.byteLength(line) + 1;
    if (this.logged > this.cap) this.ctx.log(`${this.stream} logging stopped after ${this.cap} bytes`, { stream: this.stream });
    else this.ctx.log(line, { stream: this.stream });
  }
}

function parseImage(image: string): { fromImage: string; tag: string } {
  if (image.includes("@")) return { fromImage: image, tag: "" };
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon > slash) return { fromImage: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { fromImage: image, tag: "latest" };
}

async function pullImage(socketPath: string, image: string, ctx: ExecutorContext, signal: AbortSignal): Promise<void> {
  const { fromImage, tag } = parseImage(image);
  ctx.log(`pulling ${image}`);
  const q = new URLSearchParams({ fromImage, ...(tag ? { tag } : {}) });
  const res = await send(socketPath, { method: "POST", path: `/images/create?${q}`, signal });
  // Progress arrives as JSON lines; an error is reported in-band as {"error": "..."}.
  const text = (await readAll(res)).toString("utf8");
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let msg: { error?: string; errorDetail?: { message?: string } };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      continue;
    }
    const error = msg.errorDetail?.message ?? msg.error;
    if (error) throw new TaskFailure("executor_error", `cannot pull ${image}: ${error}`);
  }
}

async function runContainer(inputs: DockerInputs, ctx: ExecutorContext, opts: DockerOptions): Promise<DockerResult> {
  const env = opts.env ?? process.env;
  const socketPath = opts.socketPath ?? dockerSocketPath(env);
  const timeoutMs = inputs.timeout_ms ?? 60_000;
  const remove = inputs.remove ?? true;
  const allowFailure = inputs.allow_failure ?? false;

  // Everything that can be refused is refused before the first connection.
  const binds = await checkVolumes(inputs.volumes, socketPath, env);
  const memory = inputs.resources?.memory === undefined ? undefined : parseMemory(inputs.resources.memory);
  const nanoCpus = inputs.resources?.cpu === undefined ? undefined : Math.round(Number(inputs.resources.cpu) * 1e9);
  const cmd = inputs.command === undefined ? undefined : typeof inputs.command === "string" ? ["/bin/sh", "-c", inputs.command] : inputs.command;

  const what = `docker ${inputs.image}`;
  if (ctx.signal.aborted) throw abortFailure(ctx.signal, what);
  const { signal, done } = deadline(ctx.signal, timeoutMs, what);
  const name = `grove-${ctx.task.id.replace(/[^A-Za-z0-9_.-]/g, "").slice(-12)}-${randomBytes(4).toString("hex")}`;
  const body = {
    Image: inputs.image,
    ...(cmd ? { Cmd: cmd } : {}),
    Env: Object.entries(inputs.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(inputs.working_dir ? { WorkingDir: inputs.working_dir } : {}),
    ...(inputs.user ? { User: inputs.user } : {}),
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    Labels: { "grove.task": ctx.task.id, "grove.tree": ctx.task.tree_id },
    HostConfig: {
      Binds: binds.map((b) => `${b.host}:${b.container}:${b.readOnly ? "ro" : "rw"}`),
      Privileged: false,
      AutoRemove: false,
      ...((inputs.network ?? "default") === "none" ? { NetworkMode: "none" } : {}),
      ...(memory !== undefined ? { Memory: memory } : {}),
      ...(nanoCpus !== undefined ? { NanoCpus: nanoCpus } : {}),
    },
  };

  let id: string | undefined;
  let removed = false;
  const cap = Math.max(0, Math.floor(ctx.settings.outputCapBytes));
  let out = new TailBuffer(cap);
  let err = new TailBuffer(cap);
  try {
    id = await createContainer(socketPath, name, body, inputs, ctx, signal);
    ctx.log(`created container ${id.slice(0, 12)} (${name}) from ${inputs.image}`);
    await send(socketPath, { method: "POST", path: `/containers/${id}/start`, signal }).then(readAll);

    // Live lines come from the followed log stream; the exit is learnt by inspecting (podman's
    // followed stream does not always end when the container does, and its /wait can hang, see
    // exitCodeOf); the result is then read from the complete logs, and lines the followed stream
    // had not delivered yet are logged from them (it is a prefix of the complete logs).
    const outLog = new Lines(ctx, "stdout", cap);
    const errLog = new Lines(ctx, "stderr", cap);
    const seen = { stdout: 0, stderr: 0 };
    const live = new Demuxer((stream, payload) => {
      seen[stream] += payload.length;
      (stream === "stdout" ? out : err).push(payload);
      (stream === "stdout" ? outLog : errLog).push(payload);
    });
    const followAbort = new AbortController();
    const following = send(socketPath, {
      method: "GET",
      path: `/containers/${id}/logs?follow=1&stdout=1&stderr=1`,
      signal: AbortSignal.any([signal, followAbort.signal]),
    }).then(
      (res) =>
        new Promise<void>((resolve) => {
          res.on("data", (c: Buffer) => live.push(c));
          res.on("close", resolve);
          res.on("error", () => resolve());
        }),
      () => undefined, // the complete logs are read below anyway
    );
    const exitCode = await exitCodeOf(socketPath, id, ctx, signal);
    followAbort.abort();
    await following;
    const fullOut = new TailBuffer(cap);
    const fullErr = new TailBuffer(cap);
    const received = { stdout: 0, stderr: 0 };
    const complete = new Demuxer((stream, payload) => {
      (stream === "stdout" ? fullOut : fullErr).push(payload);
      const skip = Math.max(0, Math.min(payload.length, seen[stream] - received[stream]));
      received[stream] += payload.length;
      if (skip < payload.length) (stream === "stdout" ? outLog : errLog).push(payload.subarray(skip));
    });
    const logs = await send(socketPath, { method: "GET", path: `/containers/${id}/logs?stdout=1&stderr=1`, signal });
    await new Promise<void>((resolve, reject) => {
      logs.on("data", (c: Buffer) => complete.push(c));
      logs.on("end", resolve);
      logs.on("error", reject);
    });
    outLog.end();
    errLog.end();
    out = fullOut;
    err = fullErr;
    if (remove) removed = await removeContainer(socketPath, id, ctx);
    const result: DockerResult = { container_id: id, exit_code: exitCode, stdout: out.text(), stderr: err.text(), removed };
    if (out.truncated || err.truncated) result.truncated = true;
    if (exitCode !== 0 && !allowFailure) {
      const tail = result.stderr.trimEnd().slice(-STDERR_TAIL_CHARS);
      throw new TaskFailure("exit_code", `container exited with code ${exitCode}${tail ? `: ${tail}` : ""}`, {
        exit_code: exitCode,
        stdout: result.stdout,
        stderr: result.stderr,
        container_id: id,
      });
    }
    return result;
  } catch (e) {
    if (signal.aborted) {
      // Timeout or cancel: the container goes, whatever `remove` says.
      // A forced remove kills a running container first (one call: podman's compat /kill does not
      // answer until its wait for the exit, which can hang); kill alone if the remove failed.
      if (id && !removed) {
        removed = await removeContainer(socketPath, id, ctx);
        if (!removed) await killContainer(socketPath, id);
      }
      const f = abortFailure(signal, what);
      throw new TaskFailure(f.type, f.message + (id ? ` (container ${id.slice(0, 12)} ${removed ? "killed and removed" : "killed; removing it failed"})` : ""), {
        container_id: id,
        stdout: out.text(),
        stderr: err.text(),
      });
    }
    if (id && remove && !removed) removed = await removeContainer(socketPath, id, ctx);
    if (e instanceof TaskFailure) throw e;
    if (e instanceof EngineError) throw new TaskFailure("executor_error", `${what}: the engine answered ${e.status}: ${e.message}`);
    throw new TaskFailure("executor_error", `cannot reach the Docker engine at ${socketPath}: ${errorText(e)}`);
  } finally {
    done();
  }
}

async function createContainer(
  socketPath: string,
  name: string,
  body: Record<string, unknown>,
  inputs: DockerInputs,
  ctx: ExecutorContext,
  signal: AbortSignal,
): Promise<string> {
  const create = () => json<{ Id: string; Warnings?: string[] }>(socketPath, { method: "POST", path: `/containers/create?name=${name}`, body, signal });
  let created: { Id: string; Warnings?: string[] };
  try {
    created = await create();
  } catch (e) {
    if (!(e instanceof EngineError) || e.status !== 404 || (inputs.pull ?? "missing") === "never") throw e;
    await pullImage(socketPath, inputs.image, ctx, signal);
    created = await create();
  }
  for (const w of created.Warnings ?? []) if (w) ctx.log(`engine: ${w}`, { stream: "stderr" });
  return created.Id;
}

/**
 * The exit code once the container has stopped, polled by inspecting it rather than with POST
 * /wait: podman 4's compat /wait never returns for a container with a bind mount (it ends
 * "stopped", not "exited"); inspect works on every engine.
 */
async function exitCodeOf(socketPath: string, id: string, ctx: ExecutorContext, signal: AbortSignal): Promise<number> {
  for (;;) {
    const info = await json<{ State?: { Running?: boolean; Status?: string; ExitCode?: number; Error?: string; OOMKilled?: boolean } }>(socketPath, {
      method: "GET",
      path: `/containers/${id}/json`,
      signal,
    });
    const state = info.State ?? {};
    if (!state.Running && state.Status !== "stopping" && typeof state.ExitCode === "number") {
      if (state.Error) ctx.log(`engine: ${state.Error}`, { stream: "stderr" });
      if (state.OOMKilled) ctx.log("the container was killed: out of memory", { stream: "stderr" });
      return state.ExitCode;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 150);
      signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
    signal.throwIfAborted();
  }
}

async function killContainer(socketPath: string, id: string): Promise<void> {
  await send(socketPath, { method: "POST", path: `/containers/${id}/kill`, signal: AbortSignal.timeout(CLEANUP_MS) })
    .then(readAll)
    .catch(() => undefined); // already stopped (409) or gone (404)
}

/** Force-removes the container; false (and a log line) when the engine would not. */
async function removeContainer(socketPath: string, id: string, ctx: ExecutorContext): Promise<boolean> {
  try {
    await send(socketPath, { method: "DELETE", path: `/containers/${id}?force=1&v=1`, signal: AbortSignal.timeout(CLEANUP_MS) }).then(readAll);
    return true;
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return true;
    ctx.log(`could not remove container ${id.slice(0, 12)}: ${errorText(e)}`, { stream: "stderr" });
    return false;
  }
}
