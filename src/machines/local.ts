// The "local" machine: this host. Commands run as `/bin/sh -c` in their own process group, so a
// timeout or an abort kills everything they started (SIGTERM, then SIGKILL after a grace period).
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { StreamCapture } from "./output.js";
import type { DirEntry, ExecOptions, ExecResult, Machine } from "./types.js";

/** Time between SIGTERM and SIGKILL when a command is killed (DESIGN §4). */
export const LOCAL_KILL_GRACE_MS = 2000;

export class LocalMachine implements Machine {
  readonly kind = "local" as const;

  constructor(
    readonly name = "local",
    readonly labels: Record<string, string> = {},
  ) {}

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const started = Date.now();
    return new Promise<ExecResult>((resolve, reject) => {
      const out = new StreamCapture("stdout", opts);
      const err = new StreamCapture("stderr", opts);
      const child = spawn("/bin/sh", ["-c", command], {
        detached: true, // leads its own process group: the whole group can be signalled
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let timedOut = false;
      let aborted = false;
      let killTimer: NodeJS.Timeout | undefined;
      const kill = () => {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        signalGroup(child.pid, "SIGTERM");
        killTimer = setTimeout(() => child.pid !== undefined && signalGroup(child.pid, "SIGKILL"), LOCAL_KILL_GRACE_MS);
      };
      const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), kill()), opts.timeoutMs);
      const onAbort = () => ((aborted = true), kill());
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener("abort", onAbort, { once: true });

      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.stdin.on("error", () => undefined); // the command may exit without reading its stdin
      child.stdin.end(opts.stdin ?? "");
      child.on("error", (e) => {
        cleanup();
        reject(new Error(`cannot start /bin/sh: ${e.message}`));
      });
      child.on("exit", () => {
        // Whatever the command left running in its group (`sleep 100 &`) goes too, so the pipes close.
        if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      });
      child.on("close", (code, sig) => {
        cleanup();
        out.end();
        err.end();
        resolve({
          exitCode: code,
          signal: sig,
          stdout: out.tail.text(),
          stderr: err.tail.text(),
          timedOut,
          aborted,
          truncated: out.tail.truncated || err.tail.truncated,
          durationMs: Date.now() - started,
        });
      });
      function cleanup() {
        if (timer) clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        opts.signal?.removeEventListener("abort", onAbort);
      }
    });
  }

  async readFile(path: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<string> {
    opts.signal?.throwIfAborted();
    if (opts.maxBytes === undefined) return fsp.readFile(path, { encoding: "utf8", signal: opts.signal });
    const fh = await fsp.open(path, "r");
    try {
      const buf = Buffer.alloc(opts.maxBytes);
      const { bytesRead } = await fh.read(buf, 0, opts.maxBytes, 0);
      return buf.subarray(0, bytesRead).toString("utf8");
    } finally {
      await fh.close();
    }
  }

  async writeFile(path: string, content: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await fsp.writeFile(path, content, { signal: opts.signal });
  }

  async listDir(path: string, opts: { signal?: AbortSignal } = {}): Promise<DirEntry[]> {
    opts.signal?.throwIfAborted();
    const entries = await fsp.readdir(path, { withFileTypes: true });
    const out: DirEntry[] = [];
    for (const e of entries) {
      const type = e.isSymbolicLink() ? "symlink" : e.isDirectory() ? "dir" : e.isFile() ? "file" : "other";
      const size = type === "file" ? await fsp.lstat(join(path, e.name)).then((s) => s.size, () => 0) : 0;
      out.push({ name: e.name, type, size });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {}
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is gone already.
  }
}
