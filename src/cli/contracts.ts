// The request and response contract of every CLI command, as zod types (seed 001's
// request-schema / response-schema leaves). program.ts validates each command's flags against its
// request type before the command runs, and `--request-schema` / `--response-schema` print them
// as JSON Schema; the JSON a command prints with `--json` is typed by its response type (and
// checked against it in test/cli/contracts.test.ts).
import { z } from "zod";
import { ERROR_TYPES, EVENT_TYPES, TASK_STATUSES } from "../core/types.js";
import { globals, isoOrNull, noArgs, positive, type Contract } from "./contract-parts.js";
import { AGENT_CONTRACTS } from "./agent-contracts.js";
import { GENERATE_CONTRACTS } from "./generate-contracts.js";
import { APPROVAL_CONTRACTS, ApprovalJson } from "./approval-contracts.js";
import { MACHINE_CONTRACTS } from "./machine-contracts.js";
import { POLICY_CONTRACTS } from "./policy-contracts.js";
import { SCHEDULE_CONTRACTS } from "./schedule-contracts.js";
import { SERVER_CONTRACTS } from "./server-contracts.js";

export type { Contract };


export const TaskError = z.object({ type: z.enum(ERROR_TYPES), message: z.string(), details: z.unknown().optional() });
export const TaskStatus = z.enum(TASK_STATUSES);

export const TaskJson = z.object({
  id: z.string(),
  tree_id: z.string(),
  parent_id: z.string().nullable(),
  name: z.string(),
  executor: z.string(),
  inputs: z.record(z.string(), z.unknown()),
  dependencies: z.array(z.object({ task: z.string(), required: z.boolean() })),
  priority: z.number().int(),
  retry: z.object({ max_attempts: z.number().int(), backoff: z.enum(["fixed", "exponential"]), base_ms: z.number(), max_ms: z.number() }),
  timeout_ms: z.number().nullable(),
  lease_ms: z.number().nullable(),
  placement: z.record(z.string(), z.string()),
  owner: z.string(),
  status: TaskStatus,
  result: z.unknown(),
  error: TaskError.nullable(),
  attempts: z.number().int(),
  run_after: isoOrNull,
  lease_owner: z.string().nullable(),
  lease_expires_at: isoOrNull,
  created_at: isoOrNull,
  started_at: isoOrNull,
  finished_at: isoOrNull,
});

export const AttemptJson = z.object({
  task_id: z.string(),
  attempt: z.number().int(),
  worker: z.string(),
  started_at: isoOrNull,
  finished_at: isoOrNull,
  outcome: z.enum(["running", "completed", "failed", "retrying", "cancelled", "lease_expired", "lost", "waiting_approval"]),
  resolved_inputs: z.record(z.string(), z.unknown()).nullable(),
  error: TaskError.nullable(),
});

export const TaskSummary = z.object({
  id: z.string(),
  name: z.string(),
  executor: z.string(),
  parent_id: z.string().nullable(),
  status: TaskStatus,
  result: z.unknown(),
  error: TaskError.nullable(),
  attempts: z.number().int(),
  started_at: isoOrNull,
  finished_at: isoOrNull,
});

export const TreeResult = z.object({
  tree_id: z.string(),
  name: z.string(),
  status: z.enum(["running", "completed", "failed", "cancelled"]),
  tasks: z.array(TaskSummary),
  approvals: z.array(ApprovalJson).optional().describe("only when the run stopped (exit 3) because tasks wait for approval; the tree is still running"),
});

export const EventJson = z.object({
  seq: z.number().int(),
  tree_id: z.string(),
  task_id: z.string().nullable(),
  type: z.enum(EVENT_TYPES),
  data: z.record(z.string(), z.unknown()),
  at: isoOrNull,
});

export const ExecutorJson = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  cancelable: z.boolean().optional(),
  input_schema: z.record(z.string(), z.unknown()),
  output_schema: z.record(z.string(), z.unknown()).nullable(),
});

/** Commands by their path (`tasks list`). Schedule commands add theirs with registerContract(). */
export const CONTRACTS: Record<string, Contract> = {
  run: {
    request: z.object({
      ...globals,
      args: z.tuple([z.string().optional()]).describe("[FILE]"),
      resume: z.string().optional(),
      concurrency: positive,
      leaseMs: positive.optional(),
      input: z.array(z.string().regex(/^[^=]+=/, "expected key=value")).optional(),
      allowPrivateNetwork: z.boolean().optional(),
      detach: z.boolean().optional(),
      progress: z.boolean(),
    }),
    response: z.union([TreeResult, z.object({ tree_id: z.string() }).describe("with --detach")]),
  },
  "tasks list": {
    request: z.object({ ...globals, args: noArgs, tree: z.string().optional(), status: TaskStatus.optional(), executor: z.string().optional(), limit: positive }),
    response: z.array(TaskJson),
  },
  "tasks get": {
    request: z.object({ ...globals, args: z.tuple([z.string()]).describe("<id>") }),
    response: TaskJson.extend({ attempt_history: z.array(AttemptJson) }),
  },
  "tasks tree": { request: z.object({ ...globals, args: z.tuple([z.string()]).describe("<tree or task id>") }), response: TreeResult },
  "tasks logs": {
    request: z.object({ ...globals, args: z.tuple([z.string()]), after: z.string().regex(/^\d+$/, "must be a non-negative integer") }),
    response: z.array(EventJson),
  },
  "tasks watch": {
    request: z.object({ ...globals, args: z.tuple([z.string()]), after: z.string().regex(/^\d+$/, "must be a non-negative integer") }),
    response: EventJson.describe("one JSON line per event"),
  },
  "tasks cancel": {
    request: z.object({ ...globals, args: z.tuple([z.string()]), reason: z.string().optional() }),
    response: z.object({ id: z.string(), cancelled: z.number().int() }),
  },
  "tasks retry": {
    request: z.object({ ...globals, args: z.tuple([z.string()]), run: z.boolean(), concurrency: positive }),
    response: z.union([TreeResult, z.object({ id: z.string(), tree_id: z.string(), reset: z.array(z.string()) }).describe("with --no-run")]),
  },
  worker: {
    request: z.object({
      ...globals,
      args: noArgs,
      concurrency: positive,
      labels: z.string().optional(),
      leaseMs: positive.optional(),
      graceMs: positive,
      allowPrivateNetwork: z.boolean().optional(),
    }),
    response: z
      .object({ at: z.string(), worker: z.string(), event: z.enum(["ready", "started", "completed", "failed", "retrying", "cancelled", "waiting_approval", "stopping", "stopped"]) })
      .catchall(z.unknown())
      .describe("one JSON line per worker event"),
  },
  "executors list": { request: z.object({ ...globals, args: noArgs }), response: z.array(ExecutorJson) },
  "executors schema": { request: z.object({ ...globals, args: z.tuple([z.string()]) }), response: ExecutorJson },
  ...APPROVAL_CONTRACTS,
  ...SCHEDULE_CONTRACTS,
  ...POLICY_CONTRACTS,
  ...AGENT_CONTRACTS,
  ...MACHINE_CONTRACTS,
  ...SERVER_CONTRACTS,
  ...GENERATE_CONTRACTS,
};

export function registerContract(path: string, contract: Contract): void {
  CONTRACTS[path] = contract;
}

export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
}
