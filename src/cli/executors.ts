import { NotFoundError } from "../core/errors.js";
import { write } from "./io.js";
import { loadRegistry, printJson } from "./context.js";
import type { GlobalOptions } from "./program.js";

export async function listExecutorsCommand(opts: GlobalOptions): Promise<void> {
  const list = (await loadRegistry(opts)).list();
  if (opts.json) {
    return printJson(list.map((e) => ({ id: e.id, name: e.name, description: e.description, cancelable: e.cancelable, input_schema: e.inputSchema, output_schema: e.outputSchema ?? null })));
  }
  const w = Math.max(...list.map((e) => e.id.length));
  write(list.map((e) => `${e.id.padEnd(w)}  ${e.description || e.name}`).join("\n") + "\n");
}

export async function schemaCommand(id: string, opts: GlobalOptions): Promise<void> {
  const registry = await loadRegistry(opts);
  const ex = registry.get(id);
  if (!ex) throw new NotFoundError(`executor "${id}" is not registered (known: ${registry.list().map((e) => e.id).join(", ")})`);
  return printJson({ id: ex.id, name: ex.name, description: ex.description, input_schema: ex.inputSchema, output_schema: ex.outputSchema ?? null });
}
