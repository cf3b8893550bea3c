// The `ssh` executor through `grove run` with tree files, against a real sshd.
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grove, tempDir } from "../helpers/cli.js";
import { startSshd, sshdMissing, type Sshd } from "../helpers/sshd.js";

const missing = sshdMissing();

/** A TCP server that accepts and never answers (a host that hangs), counting connections. */
async function silentServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const sockets = new Set<import("node:net").Socket>();
  const srv: Server = createServer((s) => {
    n++;
    sockets.add(s);
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return {
    port: (srv.address() as { port: number }).port,
    connections: () => n,
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), srv.close(() => r()))),
  };
}

function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

describe.skipIf(missing)(`ssh executor${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 30_000);
  afterAll(async () => sshd?.stop());

  const conn = () => ({ host: "127.0.0.1", port: sshd.port, username: sshd.user, key_file: sshd.keyPath, known_hosts: sshd.knownHostsPath });

  async function run(tasks: unknown[], db = join(tempDir("grove-ssh-"), "g.db")) {
    const file = join(tempDir("grove-ssh-tree-"), "tree.json");
    writeFileSync(file, JSON.stringify({ name: "ssh", tasks }));
    const r = await grove(["run", file, "--db", db, "--json"]);
    return { ...r, tree: r.stdout ? JSON.parse(r.stdout) : undefined };
  }
  const task = (tree: { tasks: { name: string }[] }, name: string) => tree.tasks.find((t) => t.name === name) as any;

  it("runs a command on an inline host and on a registry machine", async () => {
    const db = join(tempDir("grove-ssh-"), "g.db");
    const add = await grove(["machines", "add", "box", "--ssh", `${sshd.user}@127.0.0.1:${sshd.port}`, "--key", sshd.keyPath, "--known-hosts", sshd.knownHostsPath, "--db", db]);
    expect(add.code).toBe(0);
    const r = await run(
      [
        { name: "inline", executor: "ssh", inputs: { ...conn(), command: 'echo "$GREETING from $(pwd)"; echo warn >&2', env: { GREETING: "hi 'there'" }, cwd: "/tmp" } },
        { name: "registry", executor: "ssh", inputs: { machine: "box", command: "echo registry; exit 4", allow_failure: true } },
        { name: "apflow_timeout", executor: "ssh", inputs: { ...conn(), command: "echo quick", timeout: 30 } },
      ],
      db,
    );
    expect(r.stderr).toBe("");
    expect(r.tree.status).toBe("completed");
    // stderr may start with what the remote login shell prints itself (root's ~/.bashrc on the
    // test machine runs `pyenv init`, which warns when two shells start at once): the command's
    // own stderr is the end of it.
    expect(task(r.tree, "inline").result).toEqual({ stdout: "hi 'there' from /tmp\n", stderr: expect.stringMatching(/(^|\n)warn\n$/), exit_code: 0 });
    expect(task(r.tree, "registry").result).toEqual({ stdout: "registry\n", stderr: expect.not.stringMatching(/registry/), exit_code: 4 });
    expect(task(r.tree, "apflow_timeout").result.stdout).toBe("quick\n");
  });

  it("a non-zero exit fails the task with the stderr tail", async () => {
    const r = await run([{ name: "bad", executor: "ssh", inputs: { ...conn(), command: "echo broken >&2; exit 7" } }]);
    expect(r.code).toBe(1);
    expect(task(r.tree, "bad").error).toMatchObject({ type: "exit_code", message: `ssh command on ${sshd.user}@127.0.0.1:${sshd.port} exited with code 7: broken` });
  });

  it("invalid inputs fail before any connection, naming the field", async () => {
    const srv = await silentServer();
    try {
      const at = { host: "127.0.0.1", port: srv.port, username: "u", known_hosts: sshd.knownHostsPath };
      // Caught by the schema when the tree is created: nothing is stored, exit 2.
      const schema = await run([{ name: "s", executor: "ssh", inputs: { ...at, command: "true", env: { "BAD-NAME": "x" } } }]);
      expect(schema.code).toBe(2);
      expect(schema.stderr).toMatch(/task "s": inputs\.env/);
      // Rules across fields, and the key's permissions, are checked when the task starts.
      const loose = join(tempDir("grove-key-"), "id");
      copyFileSync(sshd.keyPath, loose);
      chmodSync(loose, 0o640);
      const r = await run([
        { name: "both", executor: "ssh", inputs: { ...at, machine: "box", command: "true" } },
        { name: "nouser", executor: "ssh", inputs: { host: "127.0.0.1", port: srv.port, command: "true" } },
        { name: "twoauth", executor: "ssh", inputs: { ...at, key_file: sshd.keyPath, password: "pw", command: "true" } },
        { name: "loosekey", executor: "ssh", inputs: { ...at, key_file: loose, command: "true" } },
      ]);
      expect(r.code).toBe(1);
      expect(task(r.tree, "both").error).toMatchObject({ type: "validation_error", message: "host: cannot be combined with machine (the registry has the machine's connection settings)" });
      expect(task(r.tree, "nouser").error).toMatchObject({ type: "validation_error", message: "username: is required with host" });
      expect(task(r.tree, "twoauth").error).toMatchObject({ type: "validation_error", message: "password: cannot be combined with key_file (give one way to log in)" });
      expect(task(r.tree, "loosekey").error).toMatchObject({
        type: "validation_error",
        message: `key_file: key file ${loose} is accessible by group or others (permissions 0640): run chmod 600 ${loose}`,
      });
      expect(srv.connections()).toBe(0);
    } finally {
      await srv.close();
    }
  });

  it("an unreachable host fails with a clear error within the timeout", async () => {
    const srv = await silentServer();
    try {
      const r = await run([{ name: "hang", executor: "ssh", inputs: { ...conn(), port: srv.port, command: "true", timeout_ms: 1000 } }]);
      expect(r.code).toBe(1);
      expect(task(r.tree, "hang").error).toMatchObject({ type: "timeout", message: `timed out after 1000 ms connecting to ${sshd.user}@127.0.0.1:${srv.port}` });
      expect(srv.connections()).toBe(1);
    } finally {
      await srv.close();
    }
  });

  it("refuses a host whose key is not the one in known_hosts", async () => {
    const kh = join(tempDir("grove-kh-"), "known_hosts");
    const other = await startSshd({ clientKey: sshd.keyPath });
    try {
      writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${other.hostPublicKey}\n`);
      const r = await run([{ name: "mitm", executor: "ssh", inputs: { ...conn(), known_hosts: kh, command: "true" } }]);
      expect(task(r.tree, "mitm").error.type).toBe("executor_error");
      expect(task(r.tree, "mitm").error.message).toMatch(/host key CHANGED/);
    } finally {
      await other.stop();
    }
  }, 60_000);

  it("a timeout kills the remote process", async () => {
    const pidFile = join(tempDir("grove-ssh-pid-"), "pid");
    const r = await run([{ name: "slow", executor: "ssh", inputs: { ...conn(), command: `echo $$ > ${pidFile}; exec sleep 300`, timeout_ms: 1500 } }]);
    expect(r.code).toBe(1);
    expect(task(r.tree, "slow").error).toMatchObject({ type: "timeout" });
    expect(existsSync(pidFile)).toBe(true);
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    const deadline = Date.now() + 10_000;
    while (processAlive(pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(processAlive(pid)).toBe(false);
  });
});
