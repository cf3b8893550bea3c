import { Grove } from "../client/local.js";
import { ExecutorRegistry, globalRegistry } from "../core/registry.js";
import { agent as agentExecutor } from "../agent/executor.js";
import { registerBuiltins } from "../executors/index.js";
import { io, write } from "./io.js";
import { loadExecutors } from "./load-executors.js";
import type { GlobalOptions } from "./program.js";

/** The executors a command knows (built-ins, --executors modules, grove.config), without a store. */
export async function loadRegistry(opts: GlobalOptions): Promise<ExecutorRegistry> {
  const registry = globalRegistry.clone();
  registerBuiltins(registry);
  registry.register(agentExecutor, { override: true, builtin: true });
  for (const ex of await loadExecutors(opts.executors)) registry.register(ex, { override: true });
  return registry;
}

/** The Grove instance a command works with, from the global flags. */
export async function openGrove(opts: GlobalOptions & { leaseMs?: number; allowPrivateNetwork?: boolean }): Promise<Grove> {
  const executors = await loadExecutors(opts.executors);
  const settings = opts.allowPrivateNetwork ? { allowPrivateNetwork: true } : {};
  return Grove.local({ db: opts.db, scope: opts.as, executors, leaseMs: opts.leaseMs, settings });
}

/**
 * Prints a command's JSON output. With `--jq`, the filter runs on each item (each element of an
 * array output) and every non-null result is printed as one compact JSON line.
 */
export async function printJson(value: unknown): Promise<void> {
  const filter = io().jq;
  if (filter === undefined) return void write(`${JSON.stringify(value, null, 2)}\n`);
  for (const item of Array.isArray(value) ? value : [value]) await printJsonLine(item);
}

/** Prints one item of a JSON-lines stream (`--jq` applied when given). */
export async function printJsonLine(item: unknown): Promise<void> {
  const filter = io().jq;
  if (filter === undefined) return void write(`${JSON.stringify(item)}\n`);
  const { applyJq } = await import("./jq.js");
  for (const result of await applyJq(filter, item)) if (result !== null) write(`${JSON.stringify(result)}\n`);
}
