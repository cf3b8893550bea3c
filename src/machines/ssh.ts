// A Machine reached over SSH (ssh2, imported lazily so `grove --help` stays fast).
//
// - Host keys are checked against a known_hosts file (default ~/.ssh/known_hosts): an unknown,
//   changed or revoked key is refused with a message saying what to do.
// - One connection per machine is reused by every exec and SFTP call, and closed after a while
//   idle; its socket does not keep the process alive while nothing runs on it.
// - A command runs as `exec /bin/sh -c …` behind a line that reports its pid. sshd starts every
//   session in a new session/process group (setsid), so that pid is the group id of everything
//   the command starts: a timeout or an abort runs `kill -TERM -PGID` (then -KILL after a grace
//   period) over a second channel, which really stops the remote processes — closing the
//   channel alone would leave them running.
// - env and cwd are applied by the wrapper (sshd refuses SSH "env" requests unless AcceptEnv
//   allows them); names are checked and values single-quoted.
import { connect as netConnect, type Socket } from "node:net";
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
import { SshError } from "./ssh-error.js";
import { checkKeyFile } from "./ssh-keys.js";
import {
  defaultKnownHostsPath,
  loadKnownHosts,
  preferredHostKeyAlgorithms,
  verifyHostKey,
  type HostKeyVerdict,
} from "./known-hosts.js";
import { StreamCapture } from "./output.js";
import type { DirEntry, ExecOptions, ExecResult, Machine } from "./types.js";

export { SshError, type SshErrorCode } from "./ssh-error.js";

export type SshAuth =
  | { type: "key"; keyPath: string; passphrase?: string }
  | { type: "password"; password: string }
  | { type: "agent"; socket?: string };

export interface SshMachineConfig {
  /** Registry name (defaults to user@host:port). */
  name?: string;
  labels?: Record<string, string>;
  host: string;
  port?: number;
  username: string;
  auth: SshAuth;
  /** known_hosts file (default ~/.ssh/known_hosts). */
  knownHostsPath?: string;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Close the connection after this long without any command or file operation (default 30 s). */
  idleCloseMs?: number;
  /** Time between SIGTERM and SIGKILL when a command is killed (default 2 s, as locally). */
  killGraceMs?: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PID_LINE = /^GROVE-PID:(\d+)$/;
/** OpenSSH allows 10 sessions per connection (MaxSessions): SFTP takes one, kills use another. */
const MAX_EXEC_CHANNELS = 7;
/** Output before the pid line (rc files printing) is passed through; this much is scanned at most. */
const MAX_PREAMBLE_BYTES = 64 * 1024;
/** After the command exited, how long its output may stay open before leftovers are killed. */
const LINGER_MS = 300;

/** Quotes a string for a POSIX shell. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line sent to sshd: reports the pid, applies env and cwd, then execs the command. */
export function wrapCommand(command: string, opts: { cwd?: string; env?: Record<string, string> } = {}): string {
  let inner = 'echo "GROVE-PID:$$"; ';
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (!ENV_NAME.test(k)) throw new SshError("config", `env: ${JSON.stringify(k)} is not a valid variable name`);
    inner += `export ${k}=${shQuote(v)}; `;
  }
  if (opts.cwd !== undefined) inner += `cd ${shQuote(opts.cwd)} || exit 1; `;
  inner += `exec /bin/sh -c ${shQuote(command)}`;
  return `exec /bin/sh -c ${shQuote(inner)}`;
}

type Ssh2Module = typeof import("ssh2");
let ssh2: Promise<Ssh2Module> | undefined;
function loadSsh2(): Promise<Ssh2Module> {
  // ssh2 is CommonJS: its exports are on `default` when imported from ESM.
  ssh2 ??= import("ssh2").then((m) => ((m as unknown as { default?: Ssh2Module }).default ?? m) as Ssh2Module);
  return ssh2;
}

interface Connection {
  client: Client;
  sock: Socket;
  sftp?: Promise<SFTPWrapper>;
}

export class SshMachine implements Machine {
  readonly kind = "ssh" as const;
  readonly name: string;
  readonly labels: Record<string, string>;
  private readonly port: number;
  private conn?: Promise<Connection>;
  private active = 0;
  private idleTimer?: NodeJS.Timeout;
  private execSlots = MAX_EXEC_CHANNELS;
  private readonly slotWaiters: (() => void)[] = [];
  private killChain: Promise<void> = Promise.resolve();

  constructor(private readonly config: SshMachineConfig) {
    this.port = config.port ?? 22;
    this.name = config.name ?? `${config.username}@${config.host}:${this.port}`;
    this.labels = { ...config.labels };
  }

  /** `user@host:port`, for messages (never any secret). */
  get target(): string {
    return `${this.config.username}@${this.config.host}:${this.port}`;
  }

  // ---- connection ------------------------------------------------------------------------------

  /** Opens (or reuses) the connection. Rejects with an SshError naming the cause. */
  connect(signal?: AbortSignal): Promise<Connection> {
    if (!this.conn) {
      const p = this.open(signal);
      this.conn = p;
      // A failed attempt, or a connection that closed (server restart, network), is forgotten:
      // the next call connects again.
      const forget = () => {
        if (this.conn === p) this.conn = undefined;
      };
      p.then((c) => c.client.on("close", forget), forget);
    }
    return this.conn;
  }

  private async open(signal?: AbortSignal): Promise<Connection> {
    const { Client } = await loadSsh2();
    const cfg = this.config;
    const auth = await this.authOptions();
    const knownHostsPath = cfg.knownHostsPath ?? defaultKnownHostsPath();
    const known = await loadKnownHosts(knownHostsPath);
    const algorithms = preferredHostKeyAlgorithms(known, cfg.host, this.port);
    const timeoutMs = cfg.connectTimeoutMs ?? 10_000;
    let verdict: HostKeyVerdict | undefined;

    return new Promise<Connection>((resolve, reject) => {
      const client = new Client();
      const sock = netConnect({ host: cfg.host, port: this.port });
      let settled = false;
      const fail = (err: SshError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        client.end();
        sock.destroy();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new SshError("timeout", `timed out after ${timeoutMs} ms connecting to ${this.target}`)),
        timeoutMs,
      );
      const onAbort = () => fail(new SshError("aborted", `connecting to ${this.target} was aborted`));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });

      sock.on("error", (e: NodeJS.ErrnoException) => fail(connectError(this.target, e)));
      client.on("error", (e: Error & { level?: string; code?: string }) => {
        if (verdict && !verdict.ok) return fail(new SshError("host_key", verdict.message));
        if (e.level === "client-authentication") {
          return fail(new SshError("auth", `authentication failed for ${this.target} (${describeAuth(cfg.auth)})`));
        }
        if (e.code) return fail(connectError(this.target, e as NodeJS.ErrnoException));
        fail(new SshError("connect", `ssh connection to ${this.target} failed: ${e.message}`));
      });
      client.on("ready", () => {
        if (settled) return client.end();
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const conn: Connection = { client, sock };
        this.scheduleIdle();
        resolve(conn);
      });
      client.on("close", () => fail(new SshError("connect", `ssh connection to ${this.target} closed during the handshake`)));

      const options: ConnectConfig = {
        sock,
        username: cfg.username,
        readyTimeout: timeoutMs,
        hostVerifier: (key: Buffer) => {
          verdict = verifyHostKey(known, cfg.host, this.port, key, knownHostsPath);
          return verdict.ok;
        },
        ...auth,
      };
      if (algorithms.length > 0) options.algorithms = { serverHostKey: algorithms as never };
      try {
        client.connect(options);
      } catch (e) {
        fail(new SshError("config", `cannot connect to ${this.target}: ${(e as Error).message}`));
      }
    });
  }

  private async authOptions(): Promise<Partial<ConnectConfig>> {
    const a = this.config.auth;
    if (a.type === "key") {
      const privateKey = await checkKeyFile(a.keyPath);
      return { privateKey, passphrase: a.passphrase };
    }
    if (a.type === "password") return { password: a.password, tryKeyboard: false };
    const socket = a.socket ?? process.env.SSH_AUTH_SOCK;
    if (!socket) throw new SshError("config", `no ssh agent for ${this.target}: SSH_AUTH_SOCK is not set (give a key file or a password instead)`);
    return { agent: socket };
  }

  /** Marks the connection busy (its socket keeps the process alive) until `done` is called. */
  private async use(signal?: AbortSignal): Promise<{ conn: Connection; done: () => void }> {
    this.active++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    try {
      const conn = await this.connect(signal);
      conn.sock.ref();
      let released = false;
      return {
        conn,
        done: () => {
          if (released) return;
          released = true;
          this.active--;
          this.scheduleIdle();
        },
      };
    } catch (err) {
      this.active--;
      this.scheduleIdle();
      throw err;
    }
  }

  private scheduleIdle(): void {
    if (this.active > 0 || !this.conn) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const conn = this.conn;
    // Idle: let the process exit even if nobody closes the machine, and close after a while.
    void conn.then((c) => c.sock.unref(), () => undefined);
    this.idleTimer = setTimeout(() => {
      if (this.active === 0 && this.conn === conn) void this.close();
    }, this.config.idleCloseMs ?? 30_000);
    this.idleTimer.unref();
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    const c = await conn.catch(() => undefined);
    if (!c) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => (c.sock.destroy(), resolve()), 1000);
      c.client.once("close", () => (clearTimeout(t), resolve()));
      c.client.end();
    });
  }

  private async execSlot(signal?: AbortSignal): Promise<() => void> {
    while (this.execSlots === 0) {
      signal?.throwIfAborted();
      await new Promise<void>((r) => this.slotWaiters.push(r));
    }
    this.execSlots--;
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.execSlots++;
      this.slotWaiters.shift()?.();
    };
  }

  // ---- exec ------------------------------------------------------------------------------------

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const started = Date.now();
    const wrapped = wrapCommand(command, opts);
    // One signal for the caller's abort and the timeout, with the reason kept apart.
    const ac = new AbortController();
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            ac.abort();
          }, opts.timeoutMs);
    const onAbort = () => ac.abort();
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    const finish = () => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    const notRun = (): ExecResult => ({
      exitCode: null,
      signal: null,
      stdout: "",
      stderr: "",
      timedOut,
      aborted: !timedOut,
      truncated: false,
      durationMs: Date.now() - started,
    });

    let freeSlot: (() => void) | undefined;
    let lease: { conn: Connection; done: () => void } | undefined;
    try {
      if (ac.signal.aborted) return notRun();
      freeSlot = await this.execSlot(ac.signal);
      try {
        lease = await this.use(ac.signal);
      } catch (err) {
        if (err instanceof SshError && err.code === "aborted" && timedOut) {
          throw new SshError("timeout", `timed out after ${opts.timeoutMs} ms connecting to ${this.target}`);
        }
        if (err instanceof SshError && err.code === "aborted") return notRun();
        throw err;
      }
      const channel = await openExec(lease.conn.client, wrapped, this.target);
      return await this.runChannel(lease.conn, channel, opts, ac.signal, () => timedOut, started);
    } catch (err) {
      if ((err as Error).name === "AbortError") return notRun();
      throw err;
    } finally {
      lease?.done();
      freeSlot?.();
      finish();
    }
  }

  private runChannel(
    conn: Connection,
    ch: ClientChannel,
    opts: ExecOptions,
    signal: AbortSignal,
    timedOut: () => boolean,
    started: number,
  ): Promise<ExecResult> {
    const grace = this.config.killGraceMs ?? 2000;
    return new Promise<ExecResult>((resolve, reject) => {
      const out = new StreamCapture("stdout", opts);
      const err = new StreamCapture("stderr", opts);
      let pid: number | undefined;
      let preamble: Buffer | undefined = Buffer.alloc(0);
      let exit: { code: number | null; signal: string | null } | undefined;
      let aborted = false;
      let closed = false;
      const timers: NodeJS.Timeout[] = [];
      const later = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms));

      ch.on("data", (chunk: Buffer) => {
        if (!preamble) return out.push(chunk);
        // Everything before our pid line (a chatty .bashrc) is output too; the line itself is not.
        preamble = Buffer.concat([preamble, chunk]);
        let nl: number;
        while (preamble && (nl = preamble.indexOf(10)) >= 0) {
          const line = preamble.subarray(0, nl).toString("utf8").replace(/\r$/, "");
          const rest = preamble.subarray(nl + 1);
          const m = PID_LINE.exec(line);
          if (m) {
            pid = Number(m[1]);
            preamble = undefined;
            if (rest.length > 0) out.push(rest);
            if (aborted) this.killGroup(conn, pid, "TERM");
          } else {
            out.push(preamble.subarray(0, nl + 1));
            preamble = rest;
          }
        }
        if (preamble && preamble.length > MAX_PREAMBLE_BYTES) {
          out.push(preamble);
          preamble = undefined;
        }
      });
      ch.stderr.on("data", (chunk: Buffer) => err.push(chunk));
      ch.on("exit", (code: number | null, sig?: string) => {
        exit = { code: typeof code === "number" ? code : null, signal: sig ? `SIG${sig}` : null };
        // Something the command left in the background may still hold its output open.
        later(LINGER_MS, () => {
          if (closed || pid === undefined) return;
          this.killGroup(conn, pid, "KILL");
          later(1000, giveUp);
        });
      });
      // The channel did not close after SIGKILL (no `kill` over there, a process that escaped
      // the group holding the output): close it and stop waiting for the server's answer.
      const giveUp = () => {
        ch.close();
        later(1000, settle);
      };
      ch.on("close", () => settle());
      const settle = () => {
        if (closed) return;
        closed = true;
        for (const t of timers) clearTimeout(t);
        signal.removeEventListener("abort", onAbort);
        if (preamble && preamble.length > 0) out.push(preamble);
        out.end();
        err.end();
        if (!exit && !aborted) {
          reject(new SshError("channel", `the connection to ${this.target} was lost while the command ran`));
          return;
        }
        resolve({
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
          stdout: out.tail.text(),
          stderr: err.tail.text(),
          timedOut: aborted && timedOut(),
          aborted: aborted && !timedOut(),
          truncated: out.tail.truncated || err.tail.truncated,
          durationMs: Date.now() - started,
        });
      };

      const onAbort = () => {
        if (exit || closed || aborted) return;
        aborted = true;
        if (pid !== undefined) this.killGroup(conn, pid, "TERM");
        // Not everything stops on SIGTERM: SIGKILL after the grace period, then stop waiting.
        later(grace, () => {
          if (closed) return;
          if (pid !== undefined) this.killGroup(conn, pid, "KILL");
          else ch.signal("KILL");
          later(1000, giveUp);
        });
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });

      if (opts.stdin !== undefined) ch.end(opts.stdin);
      else ch.end();
    });
  }

  /**
   * Signals the remote process group over a separate channel. Kills go one at a time, outside
   * the exec slots, so they get a channel even when every exec slot is busy.
   */
  private killGroup(conn: Connection, pid: number, sig: "TERM" | "KILL"): void {
    const cmd = `kill -${sig} -${pid} 2>/dev/null || kill -${sig} ${pid} 2>/dev/null; true`;
    this.killChain = this.killChain.then(
      () =>
        new Promise<void>((resolve) => {
          try {
            conn.client.exec(cmd, (e, ch) => {
              if (e) return resolve();
              ch.on("close", () => resolve());
              ch.on("data", () => undefined);
              ch.stderr.on("data", () => undefined);
              ch.end();
            });
          } catch {
            resolve(); // the connection is gone: so is the session's process group, with sshd
          }
        }),
    );
  }

  // ---- files (SFTP) ---------------------------------------------------------------------------

  private async withSftp<T>(signal: AbortSignal | undefined, what: string, fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const lease = await this.use(signal);
    try {
      const conn = lease.conn;
      conn.sftp ??= new Promise<SFTPWrapper>((resolve, reject) => {
        conn.client.sftp((e, sftp) => {
          if (e) {
            conn.sftp = undefined;
            reject(new SshError("sftp", `cannot start SFTP on ${this.target}: ${e.message}`));
          } else resolve(sftp);
        });
      });
      const sftp = await conn.sftp;
      return await raceAbort(fn(sftp), signal);
    } catch (err) {
      if (err instanceof SshError || (err as Error).name === "AbortError") throw err;
      throw sftpError(err, what, this.target);
    } finally {
      lease.done();
    }
  }

  readFile(path: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<string> {
    return this.withSftp(opts.signal, path, (sftp) => {
      return new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const max = opts.maxBytes;
        const stream = sftp.createReadStream(path, max === undefined ? {} : { start: 0, end: Math.max(0, max - 1) });
        if (max === 0) {
          stream.destroy();
          return resolve("");
        }
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("error", reject);
        stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      });
    });
  }

  writeFile(path: string, content: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.withSftp(opts.signal, path, (sftp) => {
      return new Promise<void>((resolve, reject) => sftp.writeFile(path, content, (e) => (e ? reject(e) : resolve())));
    });
  }

  listDir(path: string, opts: { signal?: AbortSignal } = {}): Promise<DirEntry[]> {
    return this.withSftp(opts.signal, path, (sftp) => {
      return new Promise<DirEntry[]>((resolve, reject) =>
        sftp.readdir(path, (e, list) => {
          if (e) return reject(e);
          const entries = list
            .filter((f) => f.filename !== "." && f.filename !== "..")
            .map((f): DirEntry => {
              const type = fileType(f.attrs.mode);
              return { name: f.filename, type, size: type === "file" ? f.attrs.size : 0 };
            });
          resolve(entries.sort((a, b) => a.name.localeCompare(b.name)));
        }),
      );
    });
  }
}

function openExec(client: Client, command: string, target: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (e, ch) => (e ? reject(new SshError("channel", `cannot start a command on ${target}: ${e.message}`)) : resolve(ch)));
    } catch (e) {
      reject(new SshError("channel", `cannot start a command on ${target}: ${(e as Error).message}`));
    }
  });
}

function fileType(mode: number): DirEntry["type"] {
  switch (mode & 0o170000) {
    case 0o040000:
      return "dir";
    case 0o100000:
      return "file";
    case 0o120000:
      return "symlink";
    default:
      return "other";
  }
}

function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const SFTP_MESSAGES: Record<number, string> = { 2: "no such file or directory", 3: "permission denied", 4: "failure" };

function sftpError(err: unknown, path: string, target: string): SshError {
  const code = (err as { code?: unknown }).code;
  const text = typeof code === "number" && SFTP_MESSAGES[code] ? SFTP_MESSAGES[code] : (err as Error).message;
  return new SshError("sftp", `${target}: ${path}: ${text}`);
}

function connectError(target: string, e: NodeJS.ErrnoException): SshError {
  const why: Record<string, string> = {
    ECONNREFUSED: "connection refused (is sshd running on that port?)",
    ENOTFOUND: "unknown host name",
    EAI_AGAIN: "host name lookup failed",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    ETIMEDOUT: "connection timed out",
    ECONNRESET: "connection reset by the server",
  };
  return new SshError("connect", `cannot connect to ${target}: ${(e.code && why[e.code]) ?? e.message}`);
}

function describeAuth(a: SshAuth): string {
  if (a.type === "key") return `public key ${a.keyPath} was refused`;
  if (a.type === "password") return "the password was refused";
  return "no key offered by the ssh agent was accepted";
}
