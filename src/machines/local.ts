// The `local` machine: this host. Commands run as `sh -c` in their own process group, so a timeout
// or an abort kills everything they started (SIGTERM, then SIGKILL after a grace period — the
// same approach as the `command` executor). With `writableDirs` and bubblewrap available, the
// command runs inside bwrap with the whole filesystem read-only except those directories: defence
// in depth under the command policy, which has already decided (DESIGN §9). GROVE_NO_BWRAP=1
// turns the sandbox off.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, promises as fsp, realpathSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { KILL_GRACE_MS, TailBuffer, killGroup, reapGroup } from "../executors/command.js";
import type { DirEntry, ExecOptions, ExecResult, Machine } from "./types.js";

const BWRAP = "/usr/bin/bwrap";
/** Default cap per output stream when the caller gives none. */
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
/** Default cap on readFile. */
const DEFAULT_MAX_READ = 1024 * 1024;
/** How long to wait for the pipes to close once the group is gone (an escaped process may hold them). */
const PIPE_CLOSE_GRACE_MS = 500;

let bwrapProbe: Promise<boolean> | undefined;

/**
 * Whether commands can be sandboxed here: bwrap exists, is not turned off, and really works
 * (it needs user namespaces, which some containers forbid) — probed once per process.
 */
export function bwrapAvailable(): Promise<boolean> {
  if (process.env.GROVE_NO_BWRAP === "1") return Promise.resolve(false);
  bwrapProbe ??= new Promise<boolean>((resolve) => {
    if (!existsSync(BWRAP)) return resolve(false);
    const child = spawn(BWRAP, ["--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--", "/bin/true"], { stdio: "ignore" });
    child.on("error", () => resolve(false));
    child.on("close", (code) => resolve(code === 0));
  });
  return bwrapProbe;
}

export interface LocalMachineOptions {
  name?: string;
  labels?: Record<string, string>;
  /** The shell commands run with (default /bin/sh). */
  shell?: string;
}

export class LocalMachine implements Machine {
  readonly name: string;
  readonly kind = "local" as const;
  readonly labels: Record<string, string>;
  private readonly shell: string;

  constructor(opts: LocalMachineOptions = {}) {
    this.name = opts.name ?? "local";
    this.labels = opts.labels ?? {};
    this.shell = opts.shell ?? "/bin/sh";
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const started = Date.now();
    const cap = Math.max(0, Math.floor(opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT));
    const empty = (extra: Partial<ExecResult>): ExecResult => ({
      exitCode: null, signal: null, stdout: "", stderr: "", timedOut: false, aborted: false, truncated: false, durationMs: 0, ...extra,
    });
    if (opts.signal?.aborted) return empty({ aborted: true });
    if (opts.cwd !== undefined) {
      const st = await fsp.stat(opts.cwd).catch(() => null);
      if (!st?.isDirectory()) return empty({ exitCode: 127, stderr: `cwd ${opts.cwd} does not exist or is not a directory\n` });
    }
    let file = this.shell;
    let args = ["-c", command];
    let sandboxed = false;
    if (opts.writableDirs !== undefined && (await bwrapAvailable())) {
      args = [...bwrapArgs(opts.writableDirs, opts.cwd), "--", this.shell, "-c", command];
      file = BWRAP;
      sandboxed = true;
    }

    return new Promise<ExecResult>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(file, args, {
          detached: true, // leads its own process group, so the whole group can be killed
          cwd: opts.cwd,
          env: { ...process.env, ...opts.env },
          stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        });
      } catch (err) {
        resolve(empty({ exitCode: 127, stderr: `cannot start ${file}: ${(err as Error).message}\n`, durationMs: Date.now() - started }));
        return;
      }
      const pid = child.pid;
      const out = new TailBuffer(cap);
      const err = new TailBuffer(cap);
      const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
      const forward = (stream: "stdout" | "stderr", chunk: Buffer) => {
        if (!opts.onOutput) return;
        const text = decoders[stream].write(chunk);
        if (text) {
          try {
            opts.onOutput(stream, text);
          } catch {
            // A listener's failure must not break the command.
          }
        }
      };
      child.stdout!.on("data", (chunk: Buffer) => {
        out.push(chunk);
        forward("stdout", chunk);
      });
      child.stderr!.on("data", (chunk: Buffer) => {
        err.push(chunk);
        forward("stderr", chunk);
      });
      if (opts.stdin !== undefined && child.stdin) {
        child.stdin.on("error", () => undefined); // EPIPE when the command does not read its stdin
        child.stdin.end(opts.stdin);
      }

      let timedOut = false;
      let aborted = false;
      let stopAt = 0;
      let killTimer: NodeJS.Timeout | undefined;
      let exited = false;
      let closed = false;
      let onClosed: (() => void) | undefined;
      let spawnError: Error | undefined;

      const stop = (why: "timeout" | "abort") => {
        if (exited || pid === undefined || stopAt) return;
        if (why === "timeout") timedOut = true;
        else aborted = true;
        stopAt = Date.now();
        killGroup(pid, "SIGTERM");
        killTimer = setTimeout(() => killGroup(pid, "SIGKILL"), KILL_GRACE_MS);
      };
      const onAbort = () => stop("abort");
      const timer = opts.timeoutMs !== undefined ? setTimeout(() => stop("timeout"), opts.timeoutMs) : undefined;
      if (opts.signal) opts.signal.addEventListener("abort", onAbort, { once: true });

      child.on("error", (e) => {
        spawnError = e;
        if (pid === undefined) void finish(null, null);
      });
      child.on("close", () => {
        closed = true;
        onClosed?.();
      });
      child.on("exit", (code, sig) => {
        exited = true;
        void finish(code, sig);
      });

      const finish = async (code: number | null, sig: NodeJS.Signals | null) => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        if (pid !== undefined) {
          // What the command left running (`sleep 100 &`) goes too, and is gone when exec
          // returns: SIGKILL is delivered asynchronously, so wait for the group to empty.
          if (!stopAt) await reapGroup(pid, 0);
          else await reapGroup(pid, stopAt + KILL_GRACE_MS);
        }
        if (killTimer) clearTimeout(killTimer);
        if (!closed) {
          await new Promise<void>((res) => {
            const t = setTimeout(res, PIPE_CLOSE_GRACE_MS);
            onClosed = () => {
              clearTimeout(t);
              res();
            };
          });
          if (!closed) {
            child.stdout?.destroy();
            child.stderr?.destroy();
          }
        }
        for (const s of ["stdout", "stderr"] as const) {
          const rest = decoders[s].end();
          if (rest && opts.onOutput) opts.onOutput(s, rest);
        }
        resolve({
          exitCode: spawnError && code === null ? 127 : code,
          signal: sig,
          stdout: out.text(),
          stderr: spawnError ? `${err.text()}cannot start ${file}: ${spawnError.message}\n` : err.text(),
          timedOut,
          aborted,
          truncated: out.truncated || err.truncated,
          durationMs: Date.now() - started,
          ...(sandboxed ? { sandboxed } : {}),
        });
      };
      if (opts.signal?.aborted) onAbort();
    });
  }

  async readFile(path: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<string> {
    const max = opts.maxBytes ?? DEFAULT_MAX_READ;
    const fh = await fsp.open(path, "r");
    try {
      const buf = Buffer.alloc(max);
      let n = 0;
      while (n < max) {
        if (opts.signal?.aborted) throw new Error("aborted");
        const { bytesRead } = await fh.read(buf, n, max - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return buf.subarray(0, n).toString("utf8");
    } finally {
      await fh.close();
    }
  }

  async writeFile(path: string, content: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await fsp.writeFile(path, content, { signal: opts.signal });
  }

  async listDir(path: string): Promise<DirEntry[]> {
    const entries = await fsp.readdir(path, { withFileTypes: true });
    const out: DirEntry[] = [];
    for (const e of entries) {
      const type: DirEntry["type"] = e.isSymbolicLink() ? "symlink" : e.isDirectory() ? "dir" : e.isFile() ? "file" : "other";
      const size = type === "file" ? ((await fsp.stat(`${path}/${e.name}`).catch(() => null))?.size ?? 0) : 0;
      out.push({ name: e.name, type, size });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {
    // Nothing to release: local commands hold no connection.
  }
}

/**
 * bwrap arguments: everything read-only, a private /dev and /proc (with its own PID namespace, so
 * the sandbox dies as a whole), the writable directories bound read-write. Directories that do not
 * exist cannot be bound and stay read-only (the policy refuses writes outside them anyway).
 */
function bwrapArgs(writable: string[], cwd: string | undefined): string[] {
  const args = ["--die-with-parent", "--unshare-pid", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  const seen = new Set<string>();
  for (const d of writable) {
    let real: string;
    try {
      real = realpathSync(d);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    args.push("--bind", real, real);
  }
  if (cwd) args.push("--chdir", cwd);
  return args;
}

/** The default local machine. */
export const localMachine: Machine = new LocalMachine();
