// The schedule data model (DESIGN §7). Times are epoch milliseconds; the CLI prints them as ISO.
import { iso } from "../client/result.js";
import { formatDuration } from "./duration.js";

export const SCHEDULE_KINDS = ["oneshot", "interval", "cron"] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export const RUN_STATUSES = ["running", "succeeded", "failed", "abandoned"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * What a firing runs: a tree definition stored at add time (validated then, instantiated as a new
 * tree at each firing), or a grove command line dispatched in-process.
 */
export type ScheduleTarget = { type: "tree"; name: string; tree: unknown } | { type: "argv"; argv: string[] };

/** When a schedule fires. Exactly the fields of its kind are set; the others are null. */
export interface ScheduleSpec {
  kind: ScheduleKind;
  /** oneshot: when (`--oneshot` stores the time it was added). */
  at: number | null;
  /** interval: the period. */
  every_ms: number | null;
  /** cron: a 5-field (or 6-field, with seconds) expression, and its IANA time zone. */
  cron: string | null;
  tz: string | null;
  max_runs: number | null;
  start_at: number | null;
  end_at: number | null;
}

export interface NewSchedule extends ScheduleSpec {
  owner: string;
  name: string;
  target: ScheduleTarget;
  enabled?: boolean;
}

/** One immutable version of a schedule's definition. */
export interface ScheduleVersion extends ScheduleSpec {
  version_id: number;
  owner: string;
  name: string;
  version: number;
  target: ScheduleTarget;
  created_at: number;
}

export interface RunError {
  type: string;
  message: string;
  details?: unknown;
}

/** A live schedule: its newest version and the firing state of that version. */
export interface Schedule extends ScheduleVersion {
  enabled: boolean;
  /** Set when deleted (a tombstone: versions and runs are kept). */
  deleted_at: number | null;
  run_count: number;
  error_count: number;
  last_fired_at: number | null;
  /** null: will not fire again (oneshot fired, max_runs reached, past end_at, deleted). */
  next_due_at: number | null;
  last_status: RunStatus | null;
  last_error: RunError | null;
  last_run_id: string | null;
  updated_at: number;
}

/** One firing of a schedule (a `schedule_runs` row). */
export interface ScheduleRun {
  id: string;
  owner: string;
  name: string;
  version: number;
  version_id: number;
  /** The due slot this run fired (unique per version). */
  due_at: number;
  status: RunStatus;
  /** Who claimed it: `host:pid:…` of the `schedules run` or `scheduler` process. */
  runner: string;
  lease_expires_at: number | null;
  started_at: number;
  finished_at: number | null;
  error: RunError | null;
  /** Tree targets: the tree created for this firing. */
  tree_id: string | null;
}

/** A run just claimed, with the definition it fires. */
export interface ClaimedRun {
  run: ScheduleRun;
  schedule: ScheduleVersion;
}

/**
 * What a run produced, in order: every stdout item of a dispatched command (a JSON value when the
 * output is JSON, else one text line), its stderr lines, the events and final result of a tree, and
 * errors. A failed run's last item is an `error`.
 */
export type RunItem =
  | { type: "output"; value: unknown }
  | { type: "stderr"; text: string }
  | { type: "tree"; tree_id: string }
  | { type: "event"; event: Record<string, unknown> }
  | { type: "result"; value: unknown }
  | { type: "error"; error: RunError };

export interface StoredItem {
  run_id: string;
  seq: number;
  at: number;
  item: RunItem;
}

/** Names: what `grove schedules add --name` accepts. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

// ---- JSON shapes of the CLI (DESIGN §10) ------------------------------------------------------

export function scheduleJson(s: Schedule): Record<string, unknown> {
  return {
    name: s.name,
    version: s.version,
    owner: s.owner,
    kind: s.kind,
    enabled: s.enabled,
    run_count: s.run_count,
    error_count: s.error_count,
    last_fired_at: iso(s.last_fired_at),
    next_due_at: iso(s.next_due_at),
    last_status: s.last_status,
    last_error: s.last_error,
    last_run_id: s.last_run_id,
    at: iso(s.at),
    every: s.every_ms === null ? null : formatDuration(s.every_ms),
    every_ms: s.every_ms,
    cron: s.cron,
    tz: s.tz,
    max_runs: s.max_runs,
    start_at: iso(s.start_at),
    end_at: iso(s.end_at),
    target: s.target,
    created_at: iso(s.created_at),
    updated_at: iso(s.updated_at),
    deleted_at: iso(s.deleted_at),
  };
}

export function versionJson(v: ScheduleVersion): Record<string, unknown> {
  return {
    version: v.version,
    kind: v.kind,
    at: iso(v.at),
    every: v.every_ms === null ? null : formatDuration(v.every_ms),
    cron: v.cron,
    tz: v.tz,
    max_runs: v.max_runs,
    start_at: iso(v.start_at),
    end_at: iso(v.end_at),
    target: v.target,
    created_at: iso(v.created_at),
  };
}

export function runJson(r: ScheduleRun): Record<string, unknown> {
  return {
    run_id: r.id,
    schedule: r.name,
    version: r.version,
    owner: r.owner,
    status: r.status,
    due_at: iso(r.due_at),
    started_at: iso(r.started_at),
    finished_at: iso(r.finished_at),
    error: r.error,
    tree_id: r.tree_id,
    runner: r.runner,
  };
}

/** A one-line description of when a schedule fires: `every 5m`, `cron 0 9 * * * (Europe/Paris)`. */
export function describeSpec(s: ScheduleSpec): string {
  const when =
    s.kind === "oneshot" ? `once at ${iso(s.at)}` : s.kind === "interval" ? `every ${formatDuration(s.every_ms!)}` : `cron ${s.cron} (${s.tz})`;
  const extra = [
    s.max_runs !== null ? `max ${s.max_runs} runs` : "",
    s.start_at !== null ? `from ${iso(s.start_at)}` : "",
    s.end_at !== null ? `until ${iso(s.end_at)}` : "",
  ].filter(Boolean);
  return extra.length ? `${when}, ${extra.join(", ")}` : when;
}
