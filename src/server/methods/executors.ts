// executors.* : what this server can run.
import { z } from "zod";
import { NotFoundError } from "../../core/errors.js";
import type { Executor } from "../../core/executor.js";
import { defineMethod } from "./registry.js";
import { ExecutorJson } from "./shapes.js";

const json = (e: Executor) => ({ id: e.id, name: e.name, description: e.description, cancelable: e.cancelable, input_schema: e.inputSchema, output_schema: e.outputSchema ?? null });

export const executorsList = defineMethod({
  name: "executors.list",
  description: "Every executor registered in the server.",
  params: z.object({}).strict(),
  result: z.array(ExecutorJson),
  async handler(_p, ctx) {
    return ctx.services.registry.list().map(json) as never;
  },
});

export const executorsSchema = defineMethod({
  name: "executors.schema",
  description: "The input and output JSON Schema of one executor.",
  params: z.object({ id: z.string().min(1).max(200) }).strict(),
  result: ExecutorJson,
  async handler(p, ctx) {
    const ex = ctx.services.registry.get(p.id);
    if (!ex) throw new NotFoundError(`executor "${p.id}" is not registered`);
    return json(ex) as never;
  },
});

export const EXECUTOR_METHODS = [executorsList, executorsSchema];
