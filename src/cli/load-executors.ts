import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InputError } from "../core/errors.js";
import { isBaseTaskClass, isExecutor, type BaseTaskClass, type Executor } from "../core/executor.js";
import { globalRegistry } from "../core/registry.js";

/**
 * Loads user executors (DESIGN §5): every module named by `--executors`, plus `grove.config.js`
 * / `grove.config.mjs` in the working directory when it exists (its `executors` export: modules
 * or executors). A module contributes its exported executors (named exports, a default export,
 * or a default array) and whatever it registered with `register()` while loading.
 */
export async function loadExecutors(modules: string[] = []): Promise<(Executor | BaseTaskClass)[]> {
  const found: (Executor | BaseTaskClass)[] = [];
  const paths = [...modules];
  for (const name of ["grove.config.mjs", "grove.config.js"]) {
    if (!existsSync(name)) continue;
    const config = (await importModule(name, "config")) as { default?: { executors?: unknown[] }; executors?: unknown[] };
    const list = config.executors ?? config.default?.executors ?? [];
    for (const item of list) {
      if (typeof item === "string") paths.push(item);
      else if (isExecutor(item) || isBaseTaskClass(item)) found.push(item);
      else throw new InputError(`${name}: executors must list module paths or executors`, "executors");
    }
    break;
  }
  for (const path of paths) {
    const before = new Set(globalRegistry.list());
    const mod = await importModule(path, "--executors");
    const exported = collect(mod);
    const registered = globalRegistry.list().filter((e) => !before.has(e));
    if (exported.length === 0 && registered.length === 0) {
      throw new InputError(`--executors ${path}: the module exports no executors (use defineExecutor() or extend BaseTask)`, "executors");
    }
    found.push(...exported);
  }
  return found;
}

async function importModule(path: string, flag: string): Promise<Record<string, unknown>> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(`${flag} ${path}: no such file`, "executors");
  try {
    return (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`${flag} ${path}: ${(err as Error).message}`, "executors");
  }
}

function collect(mod: Record<string, unknown>): (Executor | BaseTaskClass)[] {
  const out: (Executor | BaseTaskClass)[] = [];
  const add = (v: unknown) => {
    if ((isExecutor(v) || isBaseTaskClass(v)) && !out.includes(v)) out.push(v);
  };
  for (const [key, value] of Object.entries(mod)) {
    if (key === "default" && Array.isArray(value)) value.forEach(add);
    else add(value);
  }
  return out;
}
