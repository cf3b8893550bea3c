// The local machine: process groups, timeouts and aborts that kill everything the command
// started, output caps and streaming, stdin, file operations, and the bwrap sandbox.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bwrapAvailable, LocalMachine } from "../../src/machines/local.js";
import { groupAlive } from "../helpers/cli.js";
import { workspace } from "./helpers.js";

const m = new LocalMachine();

describe("LocalMachine.exec", () => {
  it("runs sh -c with cwd, env and stdin; a non-zero exit is a result, not an error", async () => {
    const dir = workspace({});
    const r = await m.exec('pwd; echo "$GREETING"; cat; echo err >&2; exit 3', { cwd: dir, env: { GREETING: "hi" }, stdin: "from stdin\n" });
    expect(r).toMatchObject({ exitCode: 3, stdout: `${dir}\nhi\nfrom stdin\n`, stderr: "err\n", timedOut: false, aborted: false, truncated: false });
  });

  it("streams output as it arrives and keeps only the last maxOutputBytes", async () => {
    const chunks: string[] = [];
    const r = await m.exec("for i in 1 2 3 4 5; do echo line$i; done", { maxOutputBytes: 12, onOutput: (s, c) => chunks.push(`${s}:${c}`) });
    expect(chunks.join("").replace(/stdout:/g, "")).toBe("line1\nline2\nline3\nline4\nline5\n");
    expect(r.stdout).toBe("line4\nline5\n");
    expect(r.truncated).toBe(true);
  });

  it("a timeout kills the whole process group (background children too)", async () => {
    const dir = workspace({});
    const r = await m.exec("echo $$ > pgid; sleep 60 & sleep 60", { cwd: dir, timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    const pgid = Number(readFileSync(join(dir, "pgid"), "utf8"));
    expect(groupAlive(pgid)).toBe(false);
  });

  it("an abort kills it the same way; a command ignoring SIGTERM is SIGKILLed", async () => {
    const dir = workspace({});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await m.exec("trap '' TERM; echo $$ > pgid; while true; do sleep 1; done", { cwd: dir, signal: ac.signal });
    expect(r.aborted).toBe(true);
    expect(groupAlive(Number(readFileSync(join(dir, "pgid"), "utf8")))).toBe(false);
  });

  it("what a finished command left running in its group is killed", async () => {
    const dir = workspace({});
    const r = await m.exec("echo $$ > pgid; (sleep 60 &) ; echo done", { cwd: dir });
    expect(r.stdout).toBe("done\n");
    expect(groupAlive(Number(readFileSync(join(dir, "pgid"), "utf8")))).toBe(false);
  });

  it("a missing cwd is reported as exit 127", async () => {
    const r = await m.exec("true", { cwd: "/nonexistent/dir" });
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toMatch(/does not exist/);
  });
});

describe("LocalMachine files", () => {
  it("writes, reads (capped) and lists", async () => {
    const dir = workspace({});
    await m.writeFile(join(dir, "a.txt"), "hello world");
    mkdirSync(join(dir, "sub"));
    expect(await m.readFile(join(dir, "a.txt"))).toBe("hello world");
    expect(await m.readFile(join(dir, "a.txt"), { maxBytes: 5 })).toBe("hello");
    expect(await m.listDir(dir)).toEqual([
      { name: "a.txt", type: "file", size: 11 },
      { name: "sub", type: "dir", size: 0 },
    ]);
    await expect(m.readFile(join(dir, "missing"))).rejects.toThrow(/ENOENT/);
  });
});

describe("bwrap sandbox", () => {
  it("with writableDirs, only those directories are writable", async () => {
    expect(await bwrapAvailable()).toBe(true); // installed on this machine: the sandbox must be exercised
    const inside = workspace({});
    const outside = workspace({});
    const r = await m.exec(`touch ${inside}/ok; touch ${outside}/escaped; echo rc=$?`, { writableDirs: [inside], cwd: inside });
    expect(r.sandboxed).toBe(true);
    expect(existsSync(join(inside, "ok"))).toBe(true);
    expect(existsSync(join(outside, "escaped"))).toBe(false);
    expect(r.stderr).toMatch(/Read-only file system/);
  });

  it("a sandboxed command is still killed as a group on timeout", async () => {
    const dir = workspace({});
    const r = await m.exec("sleep 60 & sleep 60", { writableDirs: [dir], timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.sandboxed).toBe(true);
  });

  it("GROVE_NO_BWRAP=1 turns it off (checked in a fresh process)", async () => {
    const { runProcess, ROOT } = await import("../helpers/cli.js");
    const script = `import { bwrapAvailable } from ${JSON.stringify(join(ROOT, "dist/machines/local.js"))}; console.log(await bwrapAvailable());`;
    const r = await runProcess(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, GROVE_NO_BWRAP: "1" } });
    expect(r.stdout.trim()).toBe("false");
  });
});
