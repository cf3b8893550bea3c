// `grove machines add|list|test|remove` (DESIGN §9, §10).
import { userInfo } from "node:os";
import { resolve as resolvePath } from "node:path";
import { InputError } from "../core/errors.js";
import { checkLabels, type MachineInfo, type MachineRegistry } from "../machines/registry.js";
import { openGrove, printJson } from "./context.js";
import { setExitCode, write } from "./io.js";
import type { GlobalOptions } from "./program.js";

async function withRegistry<T>(opts: GlobalOptions, fn: (r: MachineRegistry, scope: string) => Promise<T>): Promise<T> {
  const grove = await openGrove(opts);
  try {
    if (!grove.machines) throw new Error(`machines are not supported on the ${grove.store.kind} store`);
    return await fn(grove.machines, grove.scope);
  } finally {
    await grove.close();
  }
}

/** `user@host[:port]`, `host`, `user@[::1]:2222`. */
export function parseSshTarget(text: string): { username: string; host: string; port: number } {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s/[\]]+)(?::(\d+))?$/.exec(text);
  if (!m) throw new InputError(`--ssh ${JSON.stringify(text)}: expected user@host or user@host:port`, "ssh");
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`--ssh ${text}: port must be 1-65535`, "ssh");
  return { username: m[1] ?? userInfo().username, host: m[2]!.replace(/^\[(.*)\]$/, "$1"), port };
}

export function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new InputError(`--labels: ${JSON.stringify(part)} is not k=v`, "labels");
    labels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return checkLabels(labels, "--labels");
}

export function machineJson(m: MachineInfo) {
  return {
    name: m.name,
    owner: m.owner,
    kind: m.kind,
    host: m.host,
    port: m.port,
    user: m.username,
    key_path: m.key_path,
    password_env: m.password_env,
    known_hosts: m.known_hosts,
    labels: sortedLabels(m.labels),
    created_at: m.kind === "local" ? null : new Date(m.created_at).toISOString(),
  };
}

/** Labels in key order (PostgreSQL's jsonb keeps its own order). */
function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function where(m: MachineInfo): string {
  return m.kind === "local" ? "this host" : `${m.username}@${m.host}:${m.port}`;
}

interface AddOpts extends GlobalOptions {
  ssh: string;
  key?: string;
  passwordEnv?: string;
  knownHosts?: string;
  labels?: string;
}

export async function addCommand(name: string, opts: AddOpts): Promise<void> {
  const target = parseSshTarget(opts.ssh);
  const labels = parseLabels(opts.labels);
  await withRegistry(opts, async (registry, scope) => {
    // Paths are stored absolute: workers and schedulers run from other directories.
    const row = await registry.add(scope, {
      name,
      ...target,
      key_path: opts.key === undefined ? null : resolvePath(opts.key),
      password_env: opts.passwordEnv ?? null,
      known_hosts: opts.knownHosts === undefined ? null : resolvePath(opts.knownHosts),
      labels,
    });
    if (opts.json) return printJson(machineJson(row));
    write(`added machine ${row.name} (${where(row)})${row.owner ? ` for ${row.owner}` : ""}\n`);
  });
}

export async function listCommand(opts: GlobalOptions): Promise<void> {
  await withRegistry(opts, async (registry, scope) => {
    const all = await registry.list(scope);
    if (opts.json) return printJson(all.map(machineJson));
    const rows = [["NAME", "OWNER", "WHERE", "AUTH", "LABELS"]];
    for (const m of all) {
      const auth = m.kind === "local" ? "-" : m.key_path ? `key ${m.key_path}` : m.password_env ? `password from $${m.password_env}` : "ssh agent";
      const labels = Object.entries(sortedLabels(m.labels)).map(([k, v]) => `${k}=${v}`).join(",") || "-";
      rows.push([m.name, m.owner || "-", where(m), auth, labels]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n");
  });
}

export async function testCommand(name: string, opts: GlobalOptions & { timeoutMs: number }): Promise<void> {
  await withRegistry(opts, async (registry, scope) => {
    const r = await registry.test(name, scope, { timeoutMs: opts.timeoutMs });
    if (!r.ok) setExitCode(1);
    if (opts.json) return printJson(r);
    if (r.ok) write(`ok ${name}: ${r.latency_ms} ms\n`);
    else throw new Error(`machine ${name}: ${r.error}`);
  });
}

export async function removeCommand(name: string, opts: GlobalOptions): Promise<void> {
  await withRegistry(opts, async (registry, scope) => {
    const row = await registry.remove(name, scope);
    if (opts.json) return printJson({ name: row.name, owner: row.owner, removed: true as const });
    write(`removed machine ${row.name}${row.owner ? ` of ${row.owner}` : ""}\n`);
  });
}
