// The `ssh` executor (apflow's ssh_executor, without its holes): runs one command on a host given
// inline (host, port, username, key_file | password | password_env | the ssh agent) or on a
// registry machine (`machine: NAME`). Host keys are checked against known_hosts (an unknown or
// changed key is refused), a key file open to group/others is refused, env values are quoted,
// and a timeout or cancellation kills the remote process group, not just the channel.
// Inputs are checked before any connection is made; errors name the field and never hold a
// password or key.
import { z } from "zod";
import { TaskFailure } from "../core/errors.js";
import { defineExecutor, type Executor } from "../core/executor.js";
import type { SshAuth } from "../machines/ssh.js";
import type { Machine } from "../machines/types.js";
import { machineFor, runOnMachine, type MachineCommandResult, type ResolveMachine } from "./machine-exec.js";

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

export const SshInput = z.strictObject({
  machine: z.string().min(1).optional().describe("A machine from the registry (grove machines add); instead of host/username/…"),
  host: z.string().min(1).optional().describe("Host name or address (with username: instead of machine)"),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1).optional(),
  key_file: z.string().min(1).optional().describe("Private key file; refused when group or others may access it (chmod 600)"),
  passphrase: z.string().optional().describe("Passphrase of an encrypted key_file (use {{ secrets.NAME }})"),
  password: z.string().optional().describe("Password (use {{ secrets.NAME }}, so it is not stored with the task)"),
  password_env: envName.optional().describe("Read the password from this environment variable of the worker"),
  known_hosts: z.string().min(1).optional().describe("known_hosts file (default ~/.ssh/known_hosts)"),
  command: z.string().min(1).describe("Command line, run by /bin/sh on the host"),
  cwd: z.string().min(1).optional().describe("Working directory on the host"),
  env: z.record(envName, z.string()).optional().describe("Environment variables for the command (values are quoted)"),
  stdin: z.string().optional().describe("Written to the command's standard input"),
  timeout_ms: z.number().int().positive().optional().describe("Kill the remote command after this many milliseconds (connecting included)"),
  timeout: z.number().positive().optional().describe("The same in seconds (apflow's field); timeout_ms wins"),
  connect_timeout_ms: z.number().int().positive().default(10_000).describe("Give up connecting after this long"),
  allow_failure: z.boolean().default(false).describe("A non-zero exit code does not fail the task"),
});

export type SshInputs = z.output<typeof SshInput>;

export const SshOutput = z.object({
  stdout: z.string(),
  stderr: z.string(),
  exit_code: z.number().int(),
  truncated: z.boolean().optional().describe("Set when stdout or stderr was cut to its last outputCapBytes bytes"),
});

function invalid(field: string, message: string): never {
  throw new TaskFailure("validation_error", `${field}: ${message}`, { field });
}

/** The cross-field rules JSON Schema does not carry; checked before anything connects. */
export function checkSshInputs(i: SshInputs): void {
  if (i.machine !== undefined) {
    for (const f of ["host", "username", "key_file", "passphrase", "password", "password_env", "known_hosts"] as const) {
      if (i[f] !== undefined) invalid(f, `cannot be combined with machine (the registry has the machine's connection settings)`);
    }
    return;
  }
  if (i.host === undefined) invalid("host", "is required (or give machine: NAME from the registry)");
  if (/[\s@/]/.test(i.host)) invalid("host", `${JSON.stringify(i.host)} is not a host name or address`);
  if (i.username === undefined) invalid("username", "is required with host");
  const auths = (["key_file", "password", "password_env"] as const).filter((f) => i[f] !== undefined);
  if (auths.length > 1) invalid(auths[1]!, `cannot be combined with ${auths[0]} (give one way to log in)`);
  if (i.passphrase !== undefined && i.key_file === undefined) invalid("passphrase", "needs key_file");
}

export interface SshExecutorOptions {
  /** Finds registry machines (`machine: NAME`) for a task's owner; Grove.local provides it. */
  resolveMachine?: ResolveMachine;
}

export function makeSshExecutor(opts: SshExecutorOptions = {}): Executor {
  return defineExecutor({
    id: "ssh",
    name: "SSH command",
    description:
      "Runs a command on a host over SSH (inline host/username/key_file|password, or machine: NAME from the registry) " +
      "and returns {stdout, stderr, exit_code}; known_hosts is enforced, a timeout kills the remote process.",
    input: SshInput,
    output: SshOutput,
    cancelable: true,
    async execute(inputs, ctx): Promise<MachineCommandResult> {
      // Defaults come from schema validation; repeat them so direct calls behave the same.
      const i: SshInputs = { ...inputs, port: inputs.port ?? 22, connect_timeout_ms: inputs.connect_timeout_ms ?? 10_000, allow_failure: inputs.allow_failure ?? false };
      checkSshInputs(i);
      const timeoutMs = i.timeout_ms ?? (i.timeout !== undefined ? Math.ceil(i.timeout * 1000) : undefined);
      if (ctx.signal.aborted) throw new TaskFailure("cancelled", "ssh command cancelled before it started");
      const machine = i.machine !== undefined ? await machineFor(opts.resolveMachine, i.machine, ctx) : await inlineMachine(i, timeoutMs);
      const label = `ssh command on ${i.machine ?? `${i.username}@${i.host}:${i.port}`}`;
      try {
        return await runOnMachine(machine, { command: i.command, cwd: i.cwd, env: i.env, stdin: i.stdin, timeoutMs, allowFailure: i.allow_failure }, ctx, label);
      } catch (err) {
        throw toFailure(err);
      } finally {
        // An inline host is this task's own connection; registry machines are shared and kept.
        if (i.machine === undefined) await machine.close();
      }
    },
  });
}

async function inlineMachine(i: SshInputs, timeoutMs: number | undefined): Promise<Machine> {
  let auth: SshAuth;
  if (i.key_file !== undefined) auth = { type: "key", keyPath: i.key_file, passphrase: i.passphrase };
  else if (i.password !== undefined) auth = { type: "password", password: i.password };
  else if (i.password_env !== undefined) {
    const password = process.env[i.password_env];
    if (!password) invalid("password_env", `the environment variable ${i.password_env} is not set on this worker`);
    auth = { type: "password", password };
  } else auth = { type: "agent" };
  const { SshMachine } = await import("../machines/ssh.js");
  return new SshMachine({
    host: i.host!,
    port: i.port,
    username: i.username!,
    auth,
    knownHostsPath: i.known_hosts,
    connectTimeoutMs: timeoutMs === undefined ? i.connect_timeout_ms : Math.min(timeoutMs, i.connect_timeout_ms),
  });
}

/** SshErrors become task failures; a connect timeout is a timeout. */
function toFailure(err: unknown): unknown {
  if (err instanceof TaskFailure) return err;
  const e = err as Error & { code?: string };
  if (e?.name !== "SshError") return err;
  if (e.code === "timeout") return new TaskFailure("timeout", e.message, { ssh_error: e.code });
  if (e.code === "aborted") return new TaskFailure("cancelled", e.message, { ssh_error: e.code });
  if (e.code === "config" && /^(key file|env:)/.test(e.message)) {
    return new TaskFailure("validation_error", `${e.message.startsWith("env:") ? "" : "key_file: "}${e.message}`, { ssh_error: e.code });
  }
  return new TaskFailure("executor_error", e.message, { ssh_error: e.code });
}

export const ssh = makeSshExecutor();
