// The ssh machine against a real OpenSSH sshd (test/helpers/sshd.ts): commands, files, host key
// checking, key permissions, and a timeout that really kills the remote process.
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshError, SshMachine, type SshMachineConfig } from "../../src/machines/ssh.js";
import { groupAlive, tempDir } from "../helpers/cli.js";
import { startSshd, sshdMissing, type Sshd } from "../helpers/sshd.js";

const missing = sshdMissing();

/** Whether process `pid` is alive and not a zombie (PID 1 here does not reap orphans). */
function processAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  return state !== "Z" && state !== "X";
}

async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(missing)(`ssh machine${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let sshd: Sshd;
  let machine: SshMachine;
  const config = (over: Partial<SshMachineConfig> = {}): SshMachineConfig => ({
    name: "box",
    host: sshd.host,
    port: sshd.port,
    username: sshd.user,
    auth: { type: "key", keyPath: sshd.keyPath },
    knownHostsPath: sshd.knownHostsPath,
    ...over,
  });

  beforeAll(async () => {
    sshd = await startSshd();
    machine = new SshMachine(config());
  }, 30_000);
  afterAll(async () => {
    await machine?.close();
    await sshd?.stop();
  });

  it("runs a command with env, cwd and stdin, and reports its exit code", async () => {
    const dir = tempDir("grove-ssh-cwd-");
    const r = await machine.exec(`pwd; echo "$GREETING"; cat; echo oops >&2; exit 3`, {
      cwd: dir,
      env: { GREETING: "it's $HOME `x`" },
      stdin: "from stdin\n",
    });
    expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false, aborted: false, truncated: false });
    expect(r.stdout).toBe(`${dir}\nit's $HOME \`x\`\nfrom stdin\n`);
    expect(r.stderr).toBe("oops\n");
  });

  it("streams output and keeps only the last bytes when capped", async () => {
    const seen: string[] = [];
    const r = await machine.exec("i=0; while [ $i -lt 50 ]; do echo line$i; i=$((i+1)); done", {
      maxOutputBytes: 14,
      onOutput: (stream, chunk) => stream === "stdout" && seen.push(chunk),
    });
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(true);
    expect(r.stdout).toBe("line48\nline49\n");
    expect(seen.join("")).toContain("line0\nline1\n");
    expect(seen.join("")).not.toContain("GROVE-PID");
  });

  it("reuses one connection for many commands, several at once", async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => machine.exec(`echo $PPID-${i}`)));
    expect(results.map((r) => r.stdout.trim().split("-")[1])).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    // One sshd session process serves them all: the parents of the commands are one process.
    expect(new Set(results.map((r) => r.stdout.split("-")[0])).size).toBe(1);
  });

  it("a timeout kills the remote process, not only the channel", async () => {
    const dir = tempDir("grove-ssh-kill-");
    const pidFile = join(dir, "pid");
    const r = await machine.exec(`sh -c 'echo $$ > ${pidFile}; exec sleep 300' & wait`, { timeoutMs: 1500 });
    expect(r).toMatchObject({ timedOut: true, aborted: false, exitCode: null });
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    expect(pid).toBeGreaterThan(1);
    await waitFor(() => !processAlive(pid), `remote pid ${pid} to die`);
    expect(processAlive(pid)).toBe(false);
  });

  it("an abort kills a process that ignores SIGTERM (SIGKILL after the grace period)", async () => {
    const dir = tempDir("grove-ssh-abort-");
    const pidFile = join(dir, "pid");
    const fast = new SshMachine(config({ killGraceMs: 300 }));
    try {
      const ac = new AbortController();
      const running = fast.exec(`trap '' TERM; echo $$ > ${pidFile}; while :; do sleep 1; done`, { signal: ac.signal });
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", "the pid file");
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      ac.abort();
      const r = await running;
      expect(r).toMatchObject({ aborted: true, timedOut: false });
      await waitFor(() => !groupAlive(pid), `remote group ${pid} to die`);
    } finally {
      await fast.close();
    }
  });

  it("reads, writes and lists files over SFTP", async () => {
    const dir = tempDir("grove-ssh-files-");
    await machine.writeFile(join(dir, "a.txt"), "héllo\nworld\n");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("héllo\nworld\n");
    expect(await machine.readFile(join(dir, "a.txt"))).toBe("héllo\nworld\n");
    expect(await machine.readFile(join(dir, "a.txt"), { maxBytes: 3 })).toBe("hé");
    await machine.exec(`mkdir ${dir}/sub && ln -s a.txt ${dir}/link`);
    expect(await machine.listDir(dir)).toEqual([
      { name: "a.txt", type: "file", size: 13 },
      { name: "link", type: "symlink", size: 0 },
      { name: "sub", type: "dir", size: 0 },
    ]);
    await expect(machine.readFile(join(dir, "nope"))).rejects.toThrow(/nope: no such file or directory/);
  });

  it("refuses a host whose key differs from known_hosts", async () => {
    const other = await startSshd({ clientKey: sshd.keyPath });
    try {
      // known_hosts says the other server's port has *our* server's key: a changed key.
      const kh = join(tempDir("grove-kh-"), "known_hosts");
      writeFileSync(kh, `[127.0.0.1]:${other.port} ${sshd.hostPublicKey}\n`);
      const m = new SshMachine(config({ port: other.port, knownHostsPath: kh }));
      const err = await m.exec("true").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshError);
      expect((err as SshError).code).toBe("host_key");
      expect((err as Error).message).toMatch(/host key CHANGED/);
      expect((err as Error).message).toContain("SHA256:");
    } finally {
      await other.stop();
    }
  }, 30_000);

  it("refuses an unknown host, saying how to add it", async () => {
    const kh = join(tempDir("grove-kh-"), "known_hosts");
    writeFileSync(kh, "# empty\n");
    const m = new SshMachine(config({ knownHostsPath: kh }));
    const err = (await m.exec("true").catch((e: unknown) => e)) as SshError;
    expect(err.code).toBe("host_key");
    expect(err.message).toMatch(/unknown host/);
    expect(err.message).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${kh}`);
  });

  it("accepts a hashed known_hosts entry", async () => {
    const kh = join(tempDir("grove-kh-"), "known_hosts");
    copyFileSync(sshd.knownHostsPath, kh);
    const { runProcess } = await import("../helpers/cli.js");
    const r = await runProcess("ssh-keygen", ["-H", "-f", kh]);
    expect(r.status).toBe(0);
    expect(readFileSync(kh, "utf8")).toMatch(/^\|1\|/);
    const m = new SshMachine(config({ knownHostsPath: kh }));
    try {
      expect((await m.exec("echo ok")).stdout).toBe("ok\n");
    } finally {
      await m.close();
    }
  });

  it("refuses a key file readable by group or others, before connecting", async () => {
    const key = join(tempDir("grove-key-"), "id");
    copyFileSync(sshd.keyPath, key);
    chmodSync(key, 0o644);
    const m = new SshMachine(config({ auth: { type: "key", keyPath: key } }));
    const err = (await m.exec("true").catch((e: unknown) => e)) as SshError;
    expect(err.code).toBe("config");
    expect(err.message).toBe(`key file ${key} is accessible by group or others (permissions 0644): run chmod 600 ${key}`);
  });

  it("says when the key is refused, without leaking it", async () => {
    const { runProcess } = await import("../helpers/cli.js");
    const key = join(tempDir("grove-key-"), "stranger");
    await runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const m = new SshMachine(config({ auth: { type: "key", keyPath: key } }));
    const err = (await m.exec("true").catch((e: unknown) => e)) as SshError;
    expect(err.code).toBe("auth");
    expect(err.message).toBe(`authentication failed for ${sshd.user}@127.0.0.1:${sshd.port} (public key ${key} was refused)`);
    expect(err.message).not.toContain("PRIVATE");
  });

  it("says when nothing listens on the port", async () => {
    const { createServer } = await import("node:net");
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const m = new SshMachine(config({ port }));
    const err = (await m.exec("true").catch((e: unknown) => e)) as SshError;
    expect(err.code).toBe("connect");
    expect(err.message).toMatch(/connection refused/);
  });
});
