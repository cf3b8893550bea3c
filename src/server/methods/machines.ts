// machines.* (DESIGN §9): the named machines of the store's registry, as the caller's scope sees
// them — its own, those of its ancestors (which its tasks may use) and those it manages; never a
// sibling's. Registering a machine makes the server connect somewhere with its own credentials
// (a key file on the server, an environment variable of the server, its ssh-agent), so over the
// API `machines.add` needs an operator credential (scope "/"), which names the owner; tenants
// list, test and remove what their scope manages.
import { z } from "zod";
import { MachineJson, MachineTestJson } from "../../cli/machine-contracts.js";
import { InputError, NotFoundError } from "../../core/errors.js";
import { normalizeScope, scopeContains } from "../../core/scope.js";
import type { MachineInfo, MachineRegistry } from "../../machines/registry.js";
import { RPC, RpcError } from "../errors.js";
import { defineMethod, type MethodContext } from "./registry.js";

const name = z.string().min(1).max(64);

function registryOf(ctx: MethodContext): MachineRegistry {
  const m = ctx.services.machines;
  if (!m) throw new NotFoundError(`machines are not supported on the ${ctx.services.store.kind} store`);
  return m;
}

export function machineJson(m: MachineInfo): z.input<typeof MachineJson> {
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
    labels: Object.fromEntries(Object.entries(m.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    created_at: m.kind === "local" ? null : new Date(m.created_at).toISOString(),
  };
}

export const machinesList = defineMethod({
  name: "machines.list",
  description: '"local", then every machine the caller may use (its own and its ancestors\') or manages (owned inside its scope).',
  params: z.object({}).strict(),
  result: z.array(MachineJson),
  async handler(_p, ctx) {
    return (await registryOf(ctx).list(ctx.scope)).map(machineJson);
  },
});

export const machinesTest = defineMethod({
  name: "machines.test",
  description: "Connect to a machine the caller sees and run `true`: {ok, latency_ms, error}.",
  params: z.object({ name, timeout_ms: z.number().int().min(1).max(120_000).optional() }).strict(),
  result: MachineTestJson,
  async handler(p, ctx) {
    return registryOf(ctx).test(p.name, ctx.scope, { timeoutMs: p.timeout_ms });
  },
});

export const machinesRemove = defineMethod({
  name: "machines.remove",
  description: "Remove a machine the caller manages (owned inside its scope).",
  params: z.object({ name }).strict(),
  result: z.object({ name: z.string(), owner: z.string(), removed: z.literal(true) }),
  async handler(p, ctx) {
    const row = await registryOf(ctx).remove(p.name, ctx.scope);
    return { name: row.name, owner: row.owner, removed: true as const };
  },
});

export const machinesAdd = defineMethod({
  name: "machines.add",
  description:
    "Register an ssh machine for `owner` (operator credentials only: the server connects with its own key files, environment and ssh-agent). No secret is stored: password_env names an environment variable of the server.",
  params: z
    .object({
      name,
      owner: z.string().max(500).describe("the scope that owns it (its subtree may use it)"),
      host: z.string().min(1).max(255),
      port: z.number().int().min(1).max(65535).optional(),
      user: z.string().min(1).max(64),
      key_path: z.string().max(4096).optional(),
      password_env: z.string().max(128).optional(),
      known_hosts: z.string().max(4096).optional(),
      labels: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
  result: MachineJson,
  async handler(p, ctx) {
    if (ctx.scope !== "") throw new RpcError(RPC.FORBIDDEN, "machines.add needs an operator credential (scope /): a machine makes the server connect with its own credentials");
    let owner: string;
    try {
      owner = normalizeScope(p.owner);
    } catch (err) {
      throw new InputError((err as Error).message, "owner");
    }
    if (!scopeContains(ctx.scope, owner)) throw new NotFoundError(`no scope ${owner}`);
    const row = await registryOf(ctx).add(owner, {
      name: p.name,
      host: p.host,
      port: p.port,
      username: p.user,
      key_path: p.key_path ?? null,
      password_env: p.password_env ?? null,
      known_hosts: p.known_hosts ?? null,
      labels: p.labels,
    });
    return machineJson(row);
  },
});

export const MACHINE_METHODS = [machinesList, machinesTest, machinesRemove, machinesAdd];
