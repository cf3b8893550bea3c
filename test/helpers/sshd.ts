// A real OpenSSH server for tests: /usr/sbin/sshd on 127.0.0.1 and a free port, running as the
// current user, with a fresh host key, a generated client key in a temp authorized_keys and a
// known_hosts file that trusts it. No mocks: the ssh machine and executor talk to this.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { createServer, connect } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { runProcess, tempDir } from "./cli.js";

export const SSHD = "/usr/sbin/sshd";

/** Why ssh tests cannot run here, or null. CI installs openssh-server, so there it is always null. */
export function sshdMissing(): string | null {
  return existsSync(SSHD) ? null : `${SSHD} is not installed (apt-get install openssh-server)`;
}

export interface Sshd {
  host: string;
  port: number;
  user: string;
  dir: string;
  /** Client private key (mode 600) authorised on this server. */
  keyPath: string;
  /** known_hosts with this server's host key under [127.0.0.1]:port. */
  knownHostsPath: string;
  /** The host key's public line (`ssh-ed25519 AAAA…`). */
  hostPublicKey: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function keygen(path: string, comment: string): Promise<void> {
  const r = await runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** Resolves once the server sends its SSH banner. */
async function waitForBanner(port: number, child: ChildProcess, log: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with code ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("data", (d) => {
        s.destroy();
        resolve(d.toString().startsWith("SSH-"));
      });
      s.once("error", () => resolve(false));
      s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not start on port ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts an sshd; `clientKey` reuses a key (and its authorisation) from another instance. */
export async function startSshd(opts: { clientKey?: string } = {}): Promise<Sshd> {
  const dir = tempDir("grove-sshd-");
  const hostKey = join(dir, "host_ed25519");
  await keygen(hostKey, "grove-test-host");
  let keyPath = opts.clientKey;
  if (!keyPath) {
    keyPath = join(dir, "client_ed25519");
    await keygen(keyPath, "grove-test-client");
  }
  chmodSync(keyPath, 0o600);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${keyPath}.pub`));
  // sshd's privilege separation needs this directory (created by the package's service normally).
  if (!existsSync("/run/sshd") && process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "UsePAM no",
      "StrictModes no",
      "PermitRootLogin yes",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "MaxStartups 100",
      "Subsystem sftp internal-sftp",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (d) => (log += d));
  await waitForBanner(port, child, () => log);

  const hostPublicKey = readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
  const knownHostsPath = join(dir, "known_hosts");
  writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${hostPublicKey}\n`);

  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
  return {
    host: "127.0.0.1",
    port,
    user: userInfo().username,
    dir,
    keyPath,
    knownHostsPath,
    hostPublicKey,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
