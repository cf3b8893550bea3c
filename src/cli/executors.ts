import { NotFoundError } from "../core/errors.js";
import { write } from "./io.js";
import { openGrove, printJson } from "./context.js";
import type { GlobalOptions } from "./program.js";

export async function listExecutorsCommand(opts: GlobalOptions): Promise<void> {
  const grove = await openGrove({ ...opts, db: opts.db ?? ":memory:" });
  try {
    const list = grove.registry.list();
    if (opts.json) {
      return printJson(list.map((e) => ({ id: e.id, name: e.name, description: e.description, cancelable: e.cancelable, input_schema: e.inputSchema, output_schema: e.outputSchema ?? null })));
    }
    const w = Math.max(...list.map((e) => e.id.length));
    write(list.map((e) => `${e.id.padEnd(w)}  ${e.description || e.name}`).join("\n") + "\n");
  } finally {
    await grove.close();
  }
}

export async function schemaCommand(id: string, opts: GlobalOptions): Promise<void> {
  const grove = await openGrove({ ...opts, db: opts.db ?? ":memory:" });
  try {
    const ex = grove.registry.get(id);
    if (!ex) throw new NotFoundError(`executor "${id}" is not registered (known: ${grove.registry.list().map((e) => e.id).join(", ")})`);
    printJson({ id: ex.id, name: ex.name, description: ex.description, input_schema: ex.inputSchema, output_schema: ex.outputSchema ?? null });
  } finally {
    await grove.close();
  }
}
