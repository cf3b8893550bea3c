import { z } from "zod";
import { defineExecutor } from "../core/executor.js";
import { TASK_STATUSES, type TaskError, type TaskStatus } from "../core/types.js";

export const AggregateInput = z.looseObject({}).describe("No inputs needed; any are accepted and ignored");

export const AggregateOutput = z.object({
  results: z.record(z.string(), z.unknown()).describe("Dependency task name → its result (null unless it completed)"),
  statuses: z.record(z.string(), z.enum(TASK_STATUSES)),
  errors: z
    .record(z.string(), z.object({ type: z.string(), message: z.string(), details: z.unknown().optional() }))
    .describe("Dependency task name → its error, for the dependencies that have one"),
  count: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
});

export type AggregateResult = z.infer<typeof AggregateOutput>;

/**
 * Collects the results of every dependency (a parent's children are among its dependencies),
 * keyed by task name — not by id, unlike the original's aggregate_results_executor.
 */
export const aggregate = defineExecutor({
  id: "aggregate",
  name: "Aggregate results",
  description:
    "Returns {results, statuses, errors, count, completed, failed} from the task's dependencies, keyed by task name.",
  input: AggregateInput,
  output: AggregateOutput,
  execute(_inputs, ctx): AggregateResult {
    const results: Record<string, unknown> = {};
    const statuses: Record<string, TaskStatus> = {};
    const errors: Record<string, TaskError> = {};
    let completed = 0;
    let failed = 0;
    for (const [name, dep] of Object.entries(ctx.dependencies)) {
      const done = dep.status === "completed";
      results[name] = done ? (dep.result ?? null) : null;
      statuses[name] = dep.status;
      if (dep.error) errors[name] = dep.error;
      if (done) completed++;
      else if (dep.status === "failed") failed++;
    }
    return { results, statuses, errors, count: Object.keys(statuses).length, completed, failed };
  },
});
