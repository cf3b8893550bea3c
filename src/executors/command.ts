import { spawn, type ChildProcess } from "node:child_process";
import { promises as fsp, readdirSync, readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { StringDecoder } from "node:string_decoder";
import { z } from "zod";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import { TaskFailure } from "../core/errors.js";
import { machineFor, runOnMachine, type ResolveMachine } from "./machine-exec.js";

/** Time between SIGTERM and SIGKILL to the process group on timeout/cancel (DESIGN §4). */
export const KILL_GRACE_MS = 2000;
/** How long to wait for the output pipes to close once the group is gone. */
const PIPE_CLOSE_GRACE_MS = 1000;
/** A line longer than this (no newline yet) is logged in pieces, so memory stays bounded. */
const MAX_LOG_LINE_CHARS = 16 * 1024;
/** The failure message carries this much of the stderr tail. */
const STDERR_TAIL_CHARS = 500;

export const CommandInput = z.strictObject({
  command: z.string().min(1).describe("Command line, run as `<shell> -c <command>`"),
  cwd: z.string().min(1).optional().describe("Working directory (must exist)"),
  env: z
    .record(z.string(), z.string())
    .optional()
    .describe("Extra environment variables, merged over the worker's environment"),
  shell: z.string().min(1).default("/bin/sh").describe("Shell used to run the command"),
  allow_failure: z.boolean().default(false).describe("A non-zero exit code does not fail the task"),
  timeout_ms: z.number().int().positive().optional().describe("Kill the command after this many milliseconds"),
  machine: z
    .string()
    .min(1)
    .optional()
    .describe('Run on this machine from the registry (grove machines add) instead of here; "local" is this host'),
});

export const CommandOutput = z.object({
  stdout: z.string(),
  stderr: z.string(),
  exit_code: z.number().int(),
  truncated: z.boolean().optional().describe("Set when stdout or stderr was cut to its last outputCapBytes bytes"),
});

export type CommandResult = z.infer<typeof CommandOutput>;

export interface CommandExecutorOptions {
  /** Finds registry machines (`machine: NAME`) for a task's owner; Grove.local provides it. */
  resolveMachine?: ResolveMachine;
}

export const command = makeCommandExecutor();

/** The `command` executor; with a resolver, `machine: NAME` runs the command on that machine. */
export function makeCommandExecutor(opts: CommandExecutorOptions = {}): Executor {
  return defineExecutor({
    id: "command",
    name: "Shell command",
    description:
      "Runs a shell command in its own process group and returns {stdout, stderr, exit_code}; " +
      "a non-zero exit fails the task unless allow_failure is set.",
    input: CommandInput,
    output: CommandOutput,
    cancelable: true,
    async execute(inputs, ctx): Promise<CommandResult> {
      // Defaults are applied by schema validation; repeat them so direct calls behave the same.
      const shell = inputs.shell ?? "/bin/sh";
      const allowFailure = inputs.allow_failure ?? false;
      if (ctx.signal.aborted) throw abortFailure(ctx.signal.reason);
      if (inputs.machine !== undefined && inputs.machine !== "local") {
        // Elsewhere: the machine's shell runs it (a non-default shell is invoked through it).
        const machine = await machineFor(opts.resolveMachine, inputs.machine, ctx);
        const line = shell === "/bin/sh" ? inputs.command : `exec ${shellQuote(shell)} -c ${shellQuote(inputs.command)}`;
        return runOnMachine(
          machine,
          { command: line, cwd: inputs.cwd, env: inputs.env, timeoutMs: inputs.timeout_ms, allowFailure },
          ctx,
          `command on machine "${inputs.machine}"`,
        );
      }
      if (inputs.cwd !== undefined) await checkCwd(inputs.cwd);

      // One signal for the engine's abort (timeout/cancel) and the input's own timeout_ms.
      const ac = new AbortController();
      const forward = () => ac.abort(ctx.signal.reason);
      if (ctx.signal.aborted) forward();
      else ctx.signal.addEventListener("abort", forward, { once: true });
      const timer =
        inputs.timeout_ms === undefined
          ? undefined
          : setTimeout(
              () => ac.abort(new TaskFailure("timeout", `command timed out after ${inputs.timeout_ms} ms`)),
              inputs.timeout_ms,
            );
      let result: CommandResult;
      try {
        result = await runProcess({
          shell,
          command: inputs.command,
          cwd: inputs.cwd,
          env: inputs.env,
          signal: ac.signal,
          ctx,
        });
      } finally {
        if (timer) clearTimeout(timer);
        ctx.signal.removeEventListener("abort", forward);
      }
      if (result.exit_code !== 0 && !allowFailure) {
        const tail = result.stderr.trimEnd().slice(-STDERR_TAIL_CHARS);
        throw new TaskFailure(
          "exit_code",
          `command exited with code ${result.exit_code}${tail ? `: ${tail}` : ""}`,
          { exit_code: result.exit_code, stdout: result.stdout, stderr: result.stderr },
        );
      }
      return result;
    },
  });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function checkCwd(cwd: string): Promise<void> {
  let stat;
  try {
    stat = await fsp.stat(cwd);
  } catch {
    throw new TaskFailure("executor_error", `cwd ${cwd} does not exist`);
  }
  if (!stat.isDirectory()) throw new TaskFailure("executor_error", `cwd ${cwd} is not a directory`);
}

function abortFailure(reason: unknown): TaskFailure {
  return reason instanceof TaskFailure ? reason : new TaskFailure("cancelled", "command cancelled");
}

interface RunOptions {
  shell: string;
  command: string;
  cwd?: string;
  env?: Record<string, string>;
  signal: AbortSignal;
  ctx: ExecutorContext;
}

function runProcess(opts: RunOptions): Promise<CommandResult> {
  const { ctx, signal } = opts;
  const cap = Math.max(0, Math.floor(ctx.settings.outputCapBytes));
  return new Promise<CommandResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(opts.shell, ["-c", opts.command], {
        detached: true, // the child leads its own process group, so the whole group can be killed
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (err) {
      reject(new TaskFailure("executor_error", `cannot start ${opts.shell}: ${(err as Error).message}`));
      return;
    }
    const pid = child.pid;
    const out = new TailBuffer(cap);
    const err = new TailBuffer(cap);
    const outLog = new LineLogger(ctx, "stdout", cap);
    const errLog = new LineLogger(ctx, "stderr", cap);
    child.stdout!.on("data", (chunk: Buffer) => {
      out.push(chunk);
      outLog.push(chunk);
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      err.push(chunk);
      errLog.push(chunk);
    });

    let settled = false;
    let aborted = false;
    let abortReason: unknown;
    let abortAt = 0;
    let killTimer: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let closed = false;
    let onClosed: (() => void) | undefined;

    const cleanup = () => {
      signal.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
    };

    function onAbort() {
      if (exit || settled || pid === undefined) return; // finished already: keep the result
      aborted = true;
      abortReason = signal.reason;
      abortAt = Date.now();
      killGroup(pid, "SIGTERM");
      killTimer = setTimeout(() => killGroup(pid, "SIGKILL"), KILL_GRACE_MS);
    }

    child.on("error", (e) => {
      // Only spawn failures reach here (we signal the group with process.kill, not child.kill).
      if (settled || exit) return;
      settled = true;
      cleanup();
      reject(new TaskFailure("executor_error", `cannot start ${opts.shell}: ${e.message}`));
    });

    child.on("close", () => {
      closed = true;
      onClosed?.();
    });

    child.on("exit", (code, sig) => {
      exit = { code, signal: sig };
      void finish();
    });

    async function finish(): Promise<void> {
      if (pid !== undefined) {
        if (!aborted) {
          // Normal exit: whatever the command left running in its group (`sleep 100 &`) goes too.
          killGroup(pid, "SIGKILL");
        } else {
          // Aborted: give the rest of the group the SIGTERM grace period, then SIGKILL it.
          await reapGroup(pid, abortAt + KILL_GRACE_MS);
        }
      }
      if (killTimer) clearTimeout(killTimer);
      // A process that escaped the group could hold the pipes open forever: do not wait for it.
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
      if (settled) return;
      settled = true;
      cleanup();
      outLog.end();
      errLog.end();
      if (aborted) {
        reject(abortFailure(abortReason));
        return;
      }
      const exitCode = exit!.code ?? 128 + signalNumber(exit!.signal);
      const result: CommandResult = { stdout: out.text(), stderr: err.text(), exit_code: exitCode };
      if (out.truncated || err.truncated) result.truncated = true;
      resolve(result);
    }

    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

function signalNumber(sig: NodeJS.Signals | null): number {
  if (!sig) return 0;
  return (osConstants.signals as Record<string, number>)[sig] ?? 0;
}

/** Sends `sig` to the whole process group led by `pgid`; a group that is gone is not an error. */
export function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is gone already. EPERM and the like: nothing more can be done from here.
  }
}

/**
 * Whether any live process remains in the group. A zombie (dead, not yet reaped by init, which
 * some containers do lazily) does not count: on Linux /proc tells them apart.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  if (process.platform !== "linux") return true;
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue; // exited meanwhile
      }
      // "pid (comm) state ppid pgrp …" — comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true;
    }
    return false;
  } catch {
    return true;
  }
}

/** Waits until the group has no live process, SIGKILLing it at `deadline` if it still has. */
export async function reapGroup(pgid: number, deadline: number): Promise<void> {
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) {
      killGroup(pgid, "SIGKILL");
      // SIGKILL cannot be caught: allow the kernel a moment to deliver it.
      const until = Date.now() + 500;
      while (groupAlive(pgid) && Date.now() < until) await sleep(10);
      return;
    }
    await sleep(25);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Keeps the last `cap` bytes written to it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.cap && this.chunks.length > 0) {
      this.truncated = true;
      const excess = this.size - this.cap;
      const first = this.chunks[0];
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  text(): string {
    let buf = Buffer.concat(this.chunks, this.size);
    if (this.truncated) {
      // The cut may fall inside a UTF-8 sequence: drop its orphaned continuation bytes.
      let i = 0;
      while (i < 3 && i < buf.length && (buf[i] & 0xc0) === 0x80) i++;
      buf = buf.subarray(i);
    }
    return buf.toString("utf8");
  }
}

/** Streams complete lines to ctx.log until `cap` bytes were logged, then says so once and stops. */
class LineLogger {
  private partial = "";
  private logged = 0;
  private stopped = false;
  private readonly decoder = new StringDecoder("utf8");

  constructor(
    private readonly ctx: ExecutorContext,
    private readonly stream: "stdout" | "stderr",
    private readonly cap: number,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    this.partial += this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.partial.indexOf("\n")) >= 0) {
      const line = this.partial.slice(0, nl).replace(/\r$/, "");
      this.partial = this.partial.slice(nl + 1);
      this.emit(line);
      if (this.stopped) return;
    }
    while (this.partial.length > MAX_LOG_LINE_CHARS && !this.stopped) {
      const piece = this.partial.slice(0, MAX_LOG_LINE_CHARS);
      this.partial = this.partial.slice(MAX_LOG_LINE_CHARS);
      this.emit(piece);
    }
  }

  end(): void {
    if (this.stopped) return;
    this.partial += this.decoder.end();
    if (this.partial.length > 0) this.emit(this.partial);
    this.partial = "";
  }

  private emit(line: string): void {
    const bytes = Buffer.byteLength(line) + 1;
    if (this.logged + bytes > this.cap) {
      this.stopped = true;
      this.partial = "";
      this.safeLog(`${this.stream} logging truncated after ${this.logged} bytes (cap ${this.cap} bytes)`, {
        stream: this.stream,
        truncated: true,
      });
      return;
    }
    this.logged += bytes;
    this.safeLog(line, { stream: this.stream });
  }

  private safeLog(message: string, data: Record<string, unknown>): void {
    try {
      this.ctx.log(message, data);
    } catch {
      // Logging must never break the command.
    }
  }
}
