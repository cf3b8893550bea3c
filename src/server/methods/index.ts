// Every RPC method of `grove serve`. One line per method group: write methods/<group>.ts
// exporting an array of defineMethod(...) values and spread it here.
import { AGENT_METHODS } from "./agent.js";
import { APPROVAL_METHODS } from "./approvals.js";
import { EXECUTOR_METHODS } from "./executors.js";
import { MACHINE_METHODS } from "./machines.js";
import { MethodRegistry } from "./registry.js";
import { SCHEDULE_METHODS } from "./schedules.js";
import { TASK_METHODS } from "./tasks.js";
import { TREE_METHODS } from "./trees.js";

export function defaultMethods(): MethodRegistry {
  return new MethodRegistry().register(...TASK_METHODS, ...APPROVAL_METHODS, ...SCHEDULE_METHODS, ...EXECUTOR_METHODS, ...TREE_METHODS, ...AGENT_METHODS, ...MACHINE_METHODS);
}
