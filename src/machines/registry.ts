// The machine registry (DESIGN §9): named machines kept in the store, per owner scope.
//
// Scope rules (DESIGN §8, whole path segments):
// - a task owned by T may use a machine owned by O when O is T or one of T's ancestors ("" is
//   everyone's ancestor): a machine is usable only inside its owner's subtree; when several
//   ancestors register the same name, the nearest one wins;
// - a caller with scope C lists the machines it may use and those it manages (owned inside C),
//   and removes only those it manages. Siblings never see each other's machines.
// - "local" (this host) always exists and cannot be added or removed.
//
// No secret is stored: a password is read from the environment variable named in password_env
// when connecting, and a key stays in its file (checked for permissions at add and at connect).
import { InputError, NotFoundError } from "../core/errors.js";
import { normalizeScope, scopeContains } from "../core/scope.js";
import type { MachineRow, MachineStore } from "../store/machine-store.js";
import type { FleetMachine } from "../tree/fleet.js";
import { LocalMachine } from "./local.js";
import { SshError } from "./ssh-error.js";
import { checkKeyFile } from "./ssh-keys.js";
import type { SshAuth, SshMachine } from "./ssh.js";
import type { Machine } from "./types.js";

export const LOCAL_MACHINE = "local";
export const MACHINE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$/;

/** What `machines add` takes. */
export interface NewMachine {
  name: string;
  host: string;
  port?: number;
  username: string;
  key_path?: string | null;
  password_env?: string | null;
  known_hosts?: string | null;
  labels?: Record<string, string>;
}

/** A machine as the registry shows it: a stored one, or the built-in "local". */
export type MachineInfo = Omit<MachineRow, "kind" | "host" | "port" | "username"> & {
  kind: "local" | "ssh";
  host: string | null;
  port: number | null;
  username: string | null;
};

export interface TestResult {
  name: string;
  ok: boolean;
  latency_ms: number;
  error: string | null;
}

export type ResolveMachine = (name: string, owner: string) => Promise<Machine>;

export interface MachineRegistryOptions {
  /** The "local" machine (default: a LocalMachine). */
  local?: Machine;
  /** Where password_env variables are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Passed to every ssh machine (tests shorten it). */
  connectTimeoutMs?: number;
}

export function localInfo(): MachineInfo {
  return {
    owner: "",
    name: LOCAL_MACHINE,
    kind: "local",
    host: null,
    port: null,
    username: null,
    key_path: null,
    password_env: null,
    known_hosts: null,
    labels: {},
    created_at: 0,
  };
}

export function checkLabels(labels: Record<string, string>, field = "labels"): Record<string, string> {
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY_RE.test(k)) throw new InputError(`${field}: ${JSON.stringify(k)} is not a valid label name (letters, digits, _ . - /)`, field);
    if (typeof v !== "string") throw new InputError(`${field}.${k}: must be a string`, field);
  }
  return { ...labels };
}

export class MachineRegistry {
  private readonly local: Machine;
  private readonly cache = new Map<string, { row: MachineRow; machine: SshMachine }>();

  constructor(
    private readonly store: MachineStore,
    private readonly opts: MachineRegistryOptions = {},
  ) {
    this.local = opts.local ?? new LocalMachine();
  }

  /** Registers a machine owned by `owner`. InputError when the name is taken for that owner. */
  async add(owner: string, spec: NewMachine, now = Date.now()): Promise<MachineRow> {
    const o = normalizeScope(owner);
    if (!MACHINE_NAME_RE.test(spec.name)) {
      throw new InputError(`name ${JSON.stringify(spec.name)}: letters, digits, _ . - (up to 64, starting with a letter or digit)`, "name");
    }
    if (spec.name === LOCAL_MACHINE) throw new InputError(`name "local" is reserved for this host`, "name");
    if (!spec.host || /[\s@/]/.test(spec.host)) throw new InputError(`host ${JSON.stringify(spec.host)} is not a host name or address`, "host");
    const port = spec.port ?? 22;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`port ${port} must be 1-65535`, "port");
    if (!spec.username || /[\s@:]/.test(spec.username)) throw new InputError(`user ${JSON.stringify(spec.username)} is not a user name`, "user");
    if (spec.password_env != null && !ENV_NAME_RE.test(spec.password_env)) {
      throw new InputError(`password_env ${JSON.stringify(spec.password_env)} is not an environment variable name`, "password_env");
    }
    if (spec.key_path != null && spec.password_env != null) {
      throw new InputError("give a key file or password_env, not both", "key");
    }
    if (spec.key_path != null) {
      try {
        await checkKeyFile(spec.key_path);
      } catch (err) {
        throw new InputError((err as Error).message, "key");
      }
    }
    const row: MachineRow = {
      owner: o,
      name: spec.name,
      kind: "ssh",
      host: spec.host,
      port,
      username: spec.username,
      key_path: spec.key_path ?? null,
      password_env: spec.password_env ?? null,
      known_hosts: spec.known_hosts ?? null,
      labels: checkLabels(spec.labels ?? {}),
      created_at: now,
    };
    if (!(await this.store.add(row))) {
      throw new InputError(`machine ${JSON.stringify(spec.name)} exists already${o ? ` for owner "${o}"` : ""} (remove it first)`, "name");
    }
    return row;
  }

  /** "local", then every machine `scope` may use or manages, by name. */
  async list(scope: string): Promise<MachineInfo[]> {
    return [localInfo(), ...(await this.store.list(normalizeScope(scope)))];
  }

  /**
   * The machine `name` as seen from `scope`: the nearest one it may use (its own, else its
   * nearest ancestor's), else the only one of that name it manages. InputError when several
   * owners inside the scope have that name.
   */
  async get(name: string, scope: string): Promise<MachineInfo | undefined> {
    if (name === LOCAL_MACHINE) return localInfo();
    const s = normalizeScope(scope);
    const rows = (await this.store.list(s)).filter((r) => r.name === name);
    const usable = nearestUsable(rows, s);
    if (usable) return usable;
    const managed = rows.filter((r) => scopeContains(s, r.owner));
    if (managed.length > 1) {
      throw new InputError(
        `machine "${name}" exists under several owners in your scope (${managed.map((r) => `"${r.owner}"`).join(", ")}); pick one with --as OWNER`,
        "name",
      );
    }
    return managed[0];
  }

  /** Removes a machine the caller manages; returns it. */
  async remove(name: string, scope: string): Promise<MachineRow> {
    if (name === LOCAL_MACHINE) throw new InputError(`"local" is built in and cannot be removed`, "name");
    const s = normalizeScope(scope);
    const rows = (await this.store.list(s)).filter((r) => r.name === name && scopeContains(s, r.owner));
    const own = rows.find((r) => r.owner === s);
    if (!own && rows.length > 1) {
      throw new InputError(`machine "${name}" exists under several owners in your scope (${rows.map((r) => `"${r.owner}"`).join(", ")}); pick one with --as OWNER`, "name");
    }
    const row = own ?? rows[0];
    if (!row) throw new NotFoundError(`no machine "${name}"${s ? ` in scope "${s}"` : ""}`);
    await this.store.remove(row.owner, row.name);
    await this.evict(row);
    return row;
  }

  /** Connects to a machine and runs `true`: the round trip time, or why it failed. */
  async test(name: string, scope: string, opts: { timeoutMs?: number } = {}): Promise<TestResult> {
    const info = await this.get(name, scope);
    if (!info) throw new NotFoundError(`no machine "${name}"${scope ? ` in scope "${normalizeScope(scope)}"` : ""}`);
    const machine = info.kind === "local" ? this.local : await this.sshMachine(info as MachineRow);
    const started = Date.now();
    try {
      const r = await machine.exec("true", { timeoutMs: opts.timeoutMs ?? 15_000 });
      const latency = Date.now() - started;
      if (r.timedOut) return { name, ok: false, latency_ms: latency, error: `"true" timed out after ${opts.timeoutMs ?? 15_000} ms` };
      if (r.exitCode !== 0) return { name, ok: false, latency_ms: latency, error: `"true" exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim()}` };
      return { name, ok: true, latency_ms: latency, error: null };
    } catch (err) {
      return { name, ok: false, latency_ms: Date.now() - started, error: (err as Error).message };
    }
  }

  /**
   * The Machine a task owned by `owner` runs on when it names `name`. Connections are reused
   * across tasks until close().
   */
  async resolve(name: string, owner: string): Promise<Machine> {
    if (name === LOCAL_MACHINE) return this.local;
    const o = normalizeScope(owner);
    const row = nearestUsable((await this.store.list(o)).filter((r) => r.name === name), o);
    if (!row) throw new NotFoundError(`no machine "${name}" for owner "${o}" (grove machines list --as "${o}" shows the ones it may use)`);
    return this.sshMachine(row);
  }

  /** The function executors are given to find machines (bound to this registry). */
  readonly resolver: ResolveMachine = (name, owner) => this.resolve(name, owner);

  /**
   * Every machine `scope` sees, "local" included, with owners and labels: what the fleet fan-out
   * of a tree created by this caller picks from (tree/fleet.ts keeps those the tree's owner may use).
   */
  async fleetView(scope: string): Promise<FleetMachine[]> {
    const rows = await this.store.list(normalizeScope(scope));
    return [
      { name: LOCAL_MACHINE, owner: "", labels: { ...this.local.labels } },
      ...rows.map((r) => ({ name: r.name, owner: r.owner, labels: r.labels })),
    ];
  }

  /** Closes every connection opened through this registry. */
  async close(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    await Promise.all([...all.map((e) => e.machine.close()), this.local.close()]);
  }

  private async evict(row: MachineRow): Promise<void> {
    const key = `${row.owner}\0${row.name}`;
    const hit = this.cache.get(key);
    this.cache.delete(key);
    await hit?.machine.close();
  }

  private async sshMachine(row: MachineRow): Promise<SshMachine> {
    const key = `${row.owner}\0${row.name}`;
    const hit = this.cache.get(key);
    if (hit && hit.row.created_at === row.created_at) return hit.machine;
    if (hit) await this.evict(hit.row); // removed and added again: the old connection is stale
    const { SshMachine } = await import("./ssh.js");
    const machine = new SshMachine({
      name: row.name,
      labels: row.labels,
      host: row.host,
      port: row.port,
      username: row.username,
      auth: this.authOf(row),
      knownHostsPath: row.known_hosts ?? undefined,
      connectTimeoutMs: this.opts.connectTimeoutMs,
    });
    this.cache.set(key, { row, machine });
    return machine;
  }

  private authOf(row: MachineRow): SshAuth {
    if (row.key_path) return { type: "key", keyPath: row.key_path };
    if (row.password_env) {
      const password = (this.opts.env ?? process.env)[row.password_env];
      if (!password) throw new SshError("config", `machine "${row.name}": the environment variable ${row.password_env} (its password_env) is not set`);
      return { type: "password", password };
    }
    return { type: "agent" };
  }
}

/** Among same-named rows, the one owned by `owner` or its nearest ancestor. */
function nearestUsable(rows: MachineRow[], owner: string): MachineRow | undefined {
  return rows.filter((r) => scopeContains(r.owner, owner)).sort((a, b) => b.owner.length - a.owner.length)[0];
}
