// The request and response contracts of `grove schedules …` and `grove scheduler` (zod types, in
// the shape of src/cli/contracts.ts): the flags each command accepts and the JSON it prints with
// --json. test/schedules/contracts.test.ts checks the commands' real output against them.
// `SCHEDULE_CONTRACTS` is part of the CLI's CONTRACTS table (contracts.ts).
import { z } from "zod";
import { RUN_STATUSES, SCHEDULE_KINDS } from "../schedules/model.js";
import { globals, isoOrNull, noArgs, positive, type Contract } from "./contract-parts.js";

const iso = z.string().describe("ISO 8601 time");
const nameArg = z.tuple([z.string()]).describe("<name>");

export const RunErrorJson = z.object({ type: z.string(), message: z.string(), details: z.unknown().optional() });

export const TargetJson = z.union([
  z.object({ type: z.literal("tree"), name: z.string(), tree: z.unknown() }).describe("a tree definition, run as a new tree at each firing"),
  z.object({ type: z.literal("argv"), argv: z.array(z.string()) }).describe("a grove command line, run as the schedule's owner"),
]);

export const VersionJson = z.object({
  version: z.number().int(),
  kind: z.enum(SCHEDULE_KINDS),
  at: isoOrNull,
  every: z.string().nullable(),
  cron: z.string().nullable(),
  tz: z.string().nullable(),
  max_runs: z.number().int().nullable(),
  start_at: isoOrNull,
  end_at: isoOrNull,
  target: TargetJson,
  created_at: iso,
});

export const ScheduleJson = z.object({
  name: z.string(),
  version: z.number().int(),
  owner: z.string(),
  kind: z.enum(SCHEDULE_KINDS),
  enabled: z.boolean(),
  run_count: z.number().int(),
  error_count: z.number().int(),
  last_fired_at: isoOrNull,
  next_due_at: isoOrNull.describe("null: will not fire again"),
  last_status: z.enum(RUN_STATUSES).nullable(),
  last_error: RunErrorJson.nullable().describe("the error of the most recent failed run"),
  last_run_id: z.string().nullable(),
  at: isoOrNull,
  every: z.string().nullable(),
  every_ms: z.number().int().nullable(),
  cron: z.string().nullable(),
  tz: z.string().nullable(),
  max_runs: z.number().int().nullable(),
  start_at: isoOrNull,
  end_at: isoOrNull,
  target: TargetJson,
  created_at: iso,
  updated_at: iso,
  deleted_at: isoOrNull,
});

export const RunJson = z.object({
  run_id: z.string(),
  schedule: z.string(),
  version: z.number().int(),
  owner: z.string(),
  status: z.enum(RUN_STATUSES),
  due_at: iso,
  started_at: iso,
  finished_at: isoOrNull,
  error: RunErrorJson.nullable(),
  tree_id: z.string().nullable(),
  runner: z.string(),
});

export const RunItemJson = z.union([
  z.object({ type: z.literal("output"), value: z.unknown() }),
  z.object({ type: z.literal("stderr"), text: z.string() }),
  z.object({ type: z.literal("tree"), tree_id: z.string() }),
  z.object({ type: z.literal("event"), event: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal("result"), value: z.unknown() }),
  z.object({ type: z.literal("error"), error: RunErrorJson }),
]);

const ident = { schedule: z.string(), version: z.number().int(), owner: z.string(), run_id: z.string() };
export const RunSummaryLine = z.object({ ...ident, success: z.boolean() }).describe("default: one line per run");
export const RunItemLine = z.object({ ...ident, item: RunItemJson }).describe("--stream-all: one line per item");

const runOptions = {
  concurrency: positive,
  leaseMs: positive.optional(),
  allowPrivateNetwork: z.boolean().optional(),
};

export const SCHEDULE_CONTRACTS: Record<string, Contract> = {
  "schedules add": {
    request: z.object({
      ...globals,
      args: z.array(z.string()).describe("the grove command line to fire (after --), unless --tree"),
      name: z.string().optional(),
      oneshot: z.boolean().optional(),
      at: z.string().optional().describe("ISO 8601 time with a zone"),
      every: z.string().optional().describe("90s | 5m | 2h | 1d"),
      cron: z.string().optional(),
      tz: z.string().optional(),
      overwrite: z.boolean().optional(),
      maxRuns: positive.optional(),
      startAt: z.string().optional(),
      endAt: z.string().optional(),
      disabled: z.boolean().optional(),
      tree: z.string().optional(),
    }),
    response: ScheduleJson,
  },
  "schedules list": { request: z.object({ ...globals, args: noArgs, all: z.boolean().optional() }), response: z.array(ScheduleJson) },
  "schedules show": {
    request: z.object({ ...globals, args: nameArg }),
    response: ScheduleJson.extend({ versions: z.array(VersionJson), recent_runs: z.array(RunJson) }),
  },
  "schedules run": {
    request: z.object({ ...globals, args: noArgs, streamAll: z.boolean().optional(), limit: positive.optional(), ...runOptions }),
    response: z.union([RunSummaryLine, RunItemLine]).describe("one JSON line per run, or per item with --stream-all"),
  },
  "schedules logs": {
    request: z.object({ ...globals, args: nameArg, run: z.string().optional(), limit: positive }),
    response: z.array(RunJson.extend({ items: z.array(z.object({ seq: z.number().int(), at: iso, item: RunItemJson })) })),
  },
  "schedules delete": {
    request: z.object({ ...globals, args: nameArg }),
    response: z.object({ name: z.string(), owner: z.string(), version: z.number().int(), deleted: z.literal(true) }),
  },
  "schedules enable": { request: z.object({ ...globals, args: nameArg }), response: ScheduleJson },
  "schedules disable": { request: z.object({ ...globals, args: nameArg }), response: ScheduleJson },
  "schedules prune": {
    request: z.object({ ...globals, args: noArgs, olderThan: z.string().optional().describe("30d, 12h, …") }),
    response: z.object({ runs: z.number().int(), items: z.number().int(), before: iso }),
  },
  scheduler: {
    request: z.object({ ...globals, args: noArgs, ...runOptions, graceMs: positive }),
    response: z
      .object({ at: iso, scheduler: z.string(), event: z.enum(["ready", "fired", "finished", "abandoned", "stopping", "stopped"]) })
      .catchall(z.unknown())
      .describe("one JSON line per scheduler event"),
  },
};
