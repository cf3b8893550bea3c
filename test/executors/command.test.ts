import { describe, it, expect } from "vitest";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command } from "../../src/executors/command.js";
import { TaskFailure } from "../../src/core/errors.js";
import { validate } from "../../src/core/validation.js";
import type { DependencyOutcome, ExecutorContext } from "../../src/core/executor.js";

interface LogEntry {
  message: string;
  data?: Record<string, unknown>;
}

function makeCtx(opts: { outputCapBytes?: number; controller?: AbortController } = {}) {
  const controller = opts.controller ?? new AbortController();
  const logs: LogEntry[] = [];
  const ctx: ExecutorContext = {
    signal: controller.signal,
    log: (message, data) => void logs.push({ message, data }),
    progress: () => undefined,
    dependencies: {} as Record<string, DependencyOutcome>,
    attempt: 1,
    idempotencyKey: "tree-1:task-1",
    task: { id: "task-1", name: "cmd", tree_id: "tree-1", owner: "test", executor: "command" },
    tree: { id: "tree-1", name: "t", inputs: {} },
    machine: "local",
    settings: { allowPrivateNetwork: false, outputCapBytes: opts.outputCapBytes ?? 1024 * 1024 },
  };
  return { ctx, logs, controller };
}

/** Validates like the engine does (defaults applied), then runs. */
async function run(inputs: Record<string, unknown>, ctx: ExecutorContext) {
  const v = validate(command.inputSchema, inputs);
  if (!v.ok) throw new Error(`invalid inputs: ${JSON.stringify(v.issues)}`);
  return (await command.run(v.value, ctx)) as { stdout: string; stderr: string; exit_code: number; truncated?: boolean };
}

async function failureOf(p: Promise<unknown>): Promise<TaskFailure> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TaskFailure);
    return err as TaskFailure;
  }
  throw new Error("expected the run to fail");
}

/** A process that is gone or a zombie (dead, waiting for init to reap it) does not count. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
  if (process.platform !== "linux") return true;
  const s = procState(pid);
  return s !== null && s !== "Z" && s !== "X";
}

/** Live members of a process group (zombies excluded); [] once `kill(-pgid, 0)` says ESRCH. */
function liveGroupMembers(pgid: number): number[] {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe("ESRCH");
    return [];
  }
  const live: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) === pgid && f[0] !== "Z" && f[0] !== "X") live.push(Number(entry));
  }
  return live;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForLog(logs: LogEntry[], re: RegExp, ms = 5000): Promise<RegExpMatchArray> {
  const until = Date.now() + ms;
  for (;;) {
    for (const l of logs) {
      const m = l.message.match(re);
      if (m) return m;
    }
    if (Date.now() > until) throw new Error(`no log matched ${re}`);
    await sleep(10);
  }
}

describe("command executor: schema", () => {
  it("applies defaults and rejects bad inputs", () => {
    const v = validate(command.inputSchema, { command: "true" });
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.value).toEqual({ command: "true", shell: "/bin/sh", allow_failure: false });
    expect(validate(command.inputSchema, {}).ok).toBe(false);
    expect(validate(command.inputSchema, { command: "true", timout_ms: 5 }).ok).toBe(false);
    expect(validate(command.inputSchema, { command: "true", env: { A: 1 } }).ok).toBe(false);
    expect(command.cancelable).toBe(true);
  });
});

describe("command executor: results", () => {
  it("captures stdout, stderr and exit code 0", async () => {
    const { ctx, logs } = makeCtx();
    const out = await run({ command: "echo hello; echo oops >&2; printf 'no newline'" }, ctx);
    expect(out).toEqual({ stdout: "hello\nno newline", stderr: "oops\n", exit_code: 0 });
    expect(logs).toContainEqual({ message: "hello", data: { stream: "stdout" } });
    expect(logs).toContainEqual({ message: "no newline", data: { stream: "stdout" } });
    expect(logs).toContainEqual({ message: "oops", data: { stream: "stderr" } });
  });

  it("fails with exit_code and the stderr tail on a non-zero exit", async () => {
    const { ctx } = makeCtx();
    const longNoise = "x".repeat(2000);
    const f = await failureOf(run({ command: `echo partial; echo ${longNoise} >&2; echo 'real problem' >&2; exit 3` }, ctx));
    expect(f.type).toBe("exit_code");
    expect(f.message.startsWith("command exited with code 3: ")).toBe(true);
    expect(f.message.endsWith("real problem")).toBe(true);
    expect(f.message.length).toBeLessThanOrEqual("command exited with code 3: ".length + 500);
    expect(f.details).toMatchObject({ exit_code: 3, stdout: "partial\n" });
    expect((f.details as { stderr: string }).stderr).toContain("real problem");
  });

  it("returns a non-zero exit code with allow_failure", async () => {
    const { ctx } = makeCtx();
    const out = await run({ command: "echo out; exit 7", allow_failure: true }, ctx);
    expect(out).toEqual({ stdout: "out\n", stderr: "", exit_code: 7 });
  });

  it("reports 128 + signal number for a signal-killed process", async () => {
    const { ctx } = makeCtx();
    const out = await run({ command: "kill -9 $$", allow_failure: true }, ctx);
    expect(out.exit_code).toBe(137);
    const f = await failureOf(run({ command: "kill -TERM $$" }, makeCtx().ctx));
    expect(f.type).toBe("exit_code");
    expect((f.details as { exit_code: number }).exit_code).toBe(143);
  });

  it("runs in cwd and refuses a cwd that does not exist", async () => {
    const dir = await mkdtemp(join(tmpdir(), "grove-cmd-"));
    try {
      const inDir = await run({ command: "pwd -P", cwd: dir }, makeCtx().ctx);
      expect(inDir.stdout.trim()).toBe(await realpath(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const f = await failureOf(run({ command: "true", cwd: "/definitely/not/here" }, makeCtx().ctx));
    expect(f.type).toBe("executor_error");
    expect(f.message).toBe("cwd /definitely/not/here does not exist");
  });

  it("merges env over the worker's environment", async () => {
    const { ctx } = makeCtx();
    const out = await run(
      { command: 'printf "%s|%s" "$GROVE_TEST_VAR" "$PATH"', env: { GROVE_TEST_VAR: "from env" } },
      ctx,
    );
    expect(out.stdout).toBe(`from env|${process.env.PATH}`);
  });

  it("uses the given shell", async () => {
    const { ctx } = makeCtx();
    const f = await failureOf(run({ command: "true", shell: "/no/such/shell" }, ctx));
    expect(f.type).toBe("executor_error");
    expect(f.message).toContain("/no/such/shell");
    const out = await run({ command: 'echo "$0"', shell: "/bin/sh" }, makeCtx().ctx);
    expect(out.stdout).toBe("/bin/sh\n");
  });
});

describe("command executor: output cap", () => {
  it("keeps the last outputCapBytes of each stream and stops logging at the cap", async () => {
    const { ctx, logs } = makeCtx({ outputCapBytes: 100 });
    const out = await run(
      { command: "i=0; while [ $i -lt 50 ]; do echo line$i; echo err$i >&2; i=$((i+1)); done" },
      ctx,
    );
    expect(out.truncated).toBe(true);
    expect(Buffer.byteLength(out.stdout)).toBe(100);
    expect(Buffer.byteLength(out.stderr)).toBe(100);
    expect(out.stdout.endsWith("line48\nline49\n")).toBe(true);
    expect(out.stdout).not.toContain("line1\n");
    expect(out.stderr.endsWith("err49\n")).toBe(true);

    const stdoutLogs = logs.filter((l) => l.data?.stream === "stdout");
    const logged = stdoutLogs.filter((l) => !l.data?.truncated);
    expect(logged[0].message).toBe("line0");
    expect(logged.reduce((n, l) => n + Buffer.byteLength(l.message) + 1, 0)).toBeLessThanOrEqual(100);
    const notices = stdoutLogs.filter((l) => l.data?.truncated);
    expect(notices).toHaveLength(1);
    expect(notices[0].message).toMatch(/stdout logging truncated/);
    expect(logs.filter((l) => l.data?.stream === "stderr" && l.data?.truncated)).toHaveLength(1);
  });

  it("does not mark output under the cap as truncated", async () => {
    const { ctx, logs } = makeCtx({ outputCapBytes: 100 });
    const out = await run({ command: "echo short" }, ctx);
    expect(out).toEqual({ stdout: "short\n", stderr: "", exit_code: 0 });
    expect(logs.some((l) => l.data?.truncated)).toBe(false);
  });
});

describe("command executor: process groups", () => {
  it("kills the whole process group on timeout, quickly, leaving nothing behind", async () => {
    const { ctx, logs, controller } = makeCtx();
    const reason = new TaskFailure("timeout", "task timed out after 500 ms");
    const started = Date.now();
    const p = run({ command: "echo pgid=$$; sleep 30 & sleep 30; wait" }, ctx);
    const pgid = Number((await waitForLog(logs, /^pgid=(\d+)$/))[1]);
    const seenBy = Date.now() + 2000;
    while (liveGroupMembers(pgid).length < 3 && Date.now() < seenBy) await sleep(10);
    expect(liveGroupMembers(pgid).length).toBe(3); // sh and both sleeps
    let abortedAt = 0;
    setTimeout(
      () => {
        abortedAt = Date.now();
        controller.abort(reason);
      },
      Math.max(0, 500 - (Date.now() - started)),
    );
    const f = await failureOf(p);
    const elapsed = Date.now() - started;
    expect(f).toBe(reason);
    expect(elapsed).toBeLessThan(3000);
    // SIGTERM reaches every member at once: no need to wait for the 2 s SIGKILL escalation.
    expect(Date.now() - abortedAt).toBeLessThan(1000);
    expect(liveGroupMembers(pgid)).toEqual([]);
    // Dead members may linger as zombies until init reaps them; then the group is gone entirely.
    const until = Date.now() + 10_000;
    let esrch = false;
    while (!esrch && Date.now() < until) {
      try {
        process.kill(-pgid, 0);
        await sleep(50);
      } catch (e) {
        esrch = (e as NodeJS.ErrnoException).code === "ESRCH";
      }
    }
    expect(esrch).toBe(true);
  });

  it("escalates to SIGKILL after 2 s when SIGTERM is ignored", async () => {
    const { ctx, logs, controller } = makeCtx();
    const started = Date.now();
    const p = run({ command: "trap '' TERM; echo pgid=$$; sleep 30 & sleep 30; wait" }, ctx);
    const pgid = Number((await waitForLog(logs, /^pgid=(\d+)$/))[1]);
    const abortedAt = Date.now();
    controller.abort(new TaskFailure("cancelled", "tree cancelled"));
    const f = await failureOf(p);
    expect(f.type).toBe("cancelled");
    const afterAbort = Date.now() - abortedAt;
    expect(afterAbort).toBeGreaterThanOrEqual(1900);
    expect(afterAbort).toBeLessThan(4000);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(liveGroupMembers(pgid)).toEqual([]);
  });

  it("turns an abort without a TaskFailure reason into cancelled", async () => {
    const { ctx, logs, controller } = makeCtx();
    const p = run({ command: "echo pgid=$$; sleep 30" }, ctx);
    const pgid = Number((await waitForLog(logs, /^pgid=(\d+)$/))[1]);
    controller.abort();
    const f = await failureOf(p);
    expect(f.type).toBe("cancelled");
    expect(liveGroupMembers(pgid)).toEqual([]);
  });

  it("fails immediately when already aborted", async () => {
    const controller = new AbortController();
    const reason = new TaskFailure("cancelled", "cancelled before start");
    controller.abort(reason);
    const { ctx } = makeCtx({ controller });
    const started = Date.now();
    const f = await failureOf(run({ command: "sleep 5" }, ctx));
    expect(f).toBe(reason);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("honours the timeout_ms input", async () => {
    const { ctx, logs } = makeCtx();
    const started = Date.now();
    const p = run({ command: "echo pgid=$$; sleep 30", timeout_ms: 300 }, ctx);
    const f = await failureOf(p);
    expect(f.type).toBe("timeout");
    expect(f.message).toBe("command timed out after 300 ms");
    expect(Date.now() - started).toBeLessThan(3000);
    const pgid = Number((await waitForLog(logs, /^pgid=(\d+)$/))[1]);
    expect(liveGroupMembers(pgid)).toEqual([]);
  });

  it("does not let a background grandchild survive a normal exit", async () => {
    const { ctx } = makeCtx();
    const out = await run({ command: "sleep 100 >/dev/null 2>&1 & echo $!" }, ctx);
    const grandchild = Number(out.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(out.exit_code).toBe(0);
    const until = Date.now() + 1000;
    while (pidAlive(grandchild) && Date.now() < until) await sleep(20);
    expect(pidAlive(grandchild)).toBe(false);
  });

  it("returns even when a grandchild keeps the output pipe open", async () => {
    const { ctx } = makeCtx();
    const started = Date.now();
    const out = await run({ command: "sleep 100 & echo started" }, ctx);
    expect(out.stdout).toBe("started\n");
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
