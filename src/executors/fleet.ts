// The parent of a fleet (tree/fleet.ts): collects the outcome of each machine's task, keyed by
// machine name. Its children are optional dependencies, so it runs even when some failed; it then
// fails (with every machine's outcome in the error details) unless all of them completed.
import { z } from "zod";
import { TaskFailure } from "../core/errors.js";
import { defineExecutor } from "../core/executor.js";
import { TASK_STATUSES, type TaskError, type TaskStatus } from "../core/types.js";

export const FleetInput = z.strictObject({
  members: z.record(z.string(), z.string()).describe("Task name of each machine's task → machine name (written by grove)"),
});

export const FleetOutput = z.object({
  results: z.record(z.string(), z.unknown()).describe("Machine name → its task's result (null unless it completed)"),
  statuses: z.record(z.string(), z.enum(TASK_STATUSES)),
  errors: z.record(z.string(), z.object({ type: z.string(), message: z.string(), details: z.unknown().optional() })),
  count: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
});

export type FleetResult = z.infer<typeof FleetOutput>;

export const fleet = defineExecutor({
  id: "fleet",
  name: "Fleet results",
  description:
    "The parent grove adds for a task given machines: [...] or labels: {...}: returns {results, statuses, errors, count, completed, failed} " +
    "keyed by machine name; fails unless every machine's task completed.",
  input: FleetInput,
  output: FleetOutput,
  execute(inputs, ctx): FleetResult {
    const out: FleetResult = { results: {}, statuses: {}, errors: {}, count: 0, completed: 0, failed: 0 };
    for (const [task, machine] of Object.entries(inputs.members)) {
      const dep = ctx.dependencies[task];
      const status: TaskStatus = dep?.status ?? "skipped";
      out.count++;
      out.statuses[machine] = status;
      out.results[machine] = status === "completed" ? (dep?.result ?? null) : null;
      if (dep?.error) out.errors[machine] = dep.error satisfies TaskError;
      if (status === "completed") out.completed++;
      else out.failed++;
    }
    if (out.failed > 0) {
      const which = Object.entries(out.statuses)
        .filter(([, s]) => s !== "completed")
        .map(([m, s]) => `${m} (${out.errors[m] ? `${out.errors[m]!.type}: ${out.errors[m]!.message.slice(0, 200)}` : s})`);
      throw new TaskFailure("executor_error", `${out.failed} of ${out.count} machines failed: ${which.join("; ")}`, out);
    }
    return out;
  },
});
