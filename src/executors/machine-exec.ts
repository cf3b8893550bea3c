// Runs an executor's command on a Machine (ssh, or a registry machine named by `machine`) and
// turns the outcome into the task result of DESIGN §5: {stdout, stderr, exit_code}, a failure
// of type exit_code / timeout / cancelled, output lines streamed to the task log (capped).
import { TaskFailure } from "../core/errors.js";
import type { ExecutorContext } from "../core/executor.js";
import type { Machine } from "../machines/types.js";

/** The failure message carries this much of the stderr tail. */
const STDERR_TAIL_CHARS = 500;
const MAX_LOG_LINE_CHARS = 16 * 1024;

export interface MachineCommand {
  command: string;
  cwd?: string;
  env?: Record<string, string>;
  stdin?: string;
  timeoutMs?: number;
  allowFailure: boolean;
}

export interface MachineCommandResult {
  stdout: string;
  stderr: string;
  exit_code: number;
  truncated?: boolean;
}

export type ResolveMachine = (name: string, owner: string) => Promise<Machine>;

/** Finds a registry machine for a task, or explains why it cannot. */
export async function machineFor(resolve: ResolveMachine | undefined, name: string, ctx: ExecutorContext): Promise<Machine> {
  if (!resolve) {
    throw new TaskFailure("executor_error", `machine "${name}": this process has no machine registry (run the tree with grove run / grove worker, or Grove.local)`);
  }
  try {
    return await resolve(name, ctx.task.owner);
  } catch (err) {
    throw new TaskFailure("executor_error", (err as Error).message);
  }
}

export async function runOnMachine(machine: Machine, cmd: MachineCommand, ctx: ExecutorContext, label: string): Promise<MachineCommandResult> {
  const cap = Math.max(0, Math.floor(ctx.settings.outputCapBytes));
  const logs = { stdout: new LineLog(ctx, "stdout", cap), stderr: new LineLog(ctx, "stderr", cap) };
  const r = await machine.exec(cmd.command, {
    cwd: cmd.cwd,
    env: cmd.env,
    stdin: cmd.stdin,
    timeoutMs: cmd.timeoutMs,
    signal: ctx.signal,
    maxOutputBytes: cap,
    onOutput: (stream, chunk) => logs[stream].push(chunk),
  });
  logs.stdout.end();
  logs.stderr.end();
  if (r.timedOut) {
    throw new TaskFailure("timeout", `${label} timed out after ${cmd.timeoutMs} ms; the remote process group was killed`, {
      stdout: r.stdout,
      stderr: r.stderr,
    });
  }
  if (r.aborted) {
    const reason = ctx.signal.reason;
    throw reason instanceof TaskFailure ? reason : new TaskFailure("cancelled", `${label} cancelled; the remote process group was killed`);
  }
  const exitCode = r.exitCode ?? 128 + signalNumber(r.signal);
  const result: MachineCommandResult = { stdout: r.stdout, stderr: r.stderr, exit_code: exitCode };
  if (r.truncated) result.truncated = true;
  if (exitCode !== 0 && !cmd.allowFailure) {
    const tail = r.stderr.trimEnd().slice(-STDERR_TAIL_CHARS);
    throw new TaskFailure("exit_code", `${label} exited with code ${exitCode}${tail ? `: ${tail}` : ""}`, result);
  }
  return result;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
function signalNumber(sig: string | null): number {
  return sig ? (SIGNALS[sig] ?? 0) : 0;
}

/** Streams complete lines to ctx.log until `cap` bytes were logged, then says so once. */
class LineLog {
  private partial = "";
  private logged = 0;
  private stopped = false;

  constructor(
    private readonly ctx: ExecutorContext,
    private readonly stream: "stdout" | "stderr",
    private readonly cap: number,
  ) {}

  push(text: string): void {
    if (this.stopped) return;
    this.partial += text;
    let nl: number;
    while ((nl = this.partial.indexOf("\n")) >= 0 && !this.stopped) {
      const line = this.partial.slice(0, nl).replace(/\r$/, "");
      this.partial = this.partial.slice(nl + 1);
      this.emit(line);
    }
    while (this.partial.length > MAX_LOG_LINE_CHARS && !this.stopped) {
      this.emit(this.partial.slice(0, MAX_LOG_LINE_CHARS));
      this.partial = this.partial.slice(MAX_LOG_LINE_CHARS);
    }
  }

  end(): void {
    if (!this.stopped && this.partial.length > 0) this.emit(this.partial);
    this.partial = "";
  }

  private emit(line: string): void {
    const bytes = Buffer.byteLength(line) + 1;
    if (this.logged + bytes > this.cap) {
      this.stopped = true;
      this.partial = "";
      this.log(`${this.stream} logging truncated after ${this.logged} bytes (cap ${this.cap} bytes)`, { stream: this.stream, truncated: true });
      return;
    }
    this.logged += bytes;
    this.log(line, { stream: this.stream });
  }

  private log(message: string, data: Record<string, unknown>): void {
    try {
      this.ctx.log(message, data);
    } catch {
      // Logging must never break the command.
    }
  }
}
