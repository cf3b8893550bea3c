// `grove schedules add|list|show|run|logs|delete|enable|disable|prune` (DESIGN §7, §10).
import { basename, extname } from "node:path";
import { iso } from "../client/result.js";
import { InputError, NotFoundError } from "../core/errors.js";
import { checkCron, isTimeZone, localTimeZone } from "../schedules/due.js";
import { formatDuration, parseDuration, parseIsoTime } from "../schedules/duration.js";
import { FORBIDDEN_ARGV, ScheduleFirer, type RunOutcome } from "../schedules/fire.js";
import {
  describeSpec,
  NAME_RE,
  runJson,
  scheduleJson,
  versionJson,
  type ClaimedRun,
  type NewSchedule,
  type RunItem,
  type Schedule,
  type ScheduleTarget,
  type StoredItem,
} from "../schedules/model.js";
import { DEFAULT_DB } from "../store/index.js";
import { schedulesOf, type ScheduleStore } from "../store/schedule-store.js";
import { loadTree } from "../tree/index.js";
import { openGrove, printJson, printJsonLine } from "./context.js";
import { io, setExitCode, write, writeErr } from "./io.js";
import type { GlobalOptions } from "./program.js";

type Grove = Awaited<ReturnType<typeof openGrove>>;

/** Opens the store with the global flags, gives `fn` the schedules of it, closes it. */
async function withSchedules<T>(opts: GlobalOptions & { allowPrivateNetwork?: boolean }, fn: (s: ScheduleStore, grove: Grove) => Promise<T>): Promise<T> {
  const grove = await openGrove(opts);
  try {
    return await fn(schedulesOf(grove.store), grove);
  } finally {
    await grove.close();
  }
}

/** The database a dispatched command line must use: the one this process opened. */
export function dbSpec(opts: GlobalOptions): string {
  return opts.db || process.env.GROVE_DATABASE_URL || DEFAULT_DB;
}

async function resolve(s: ScheduleStore, name: string, scope: string, includeDeleted = false): Promise<Schedule> {
  const found = await s.get(name, scope, { includeDeleted });
  if (!found) throw new NotFoundError(`no schedule "${name}"${scope ? ` in scope "${scope}"` : ""}`);
  return found;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

function time(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

// ---- add --------------------------------------------------------------------------------------

interface AddOpts extends GlobalOptions {
  name?: string;
  oneshot?: boolean;
  at?: string;
  every?: string;
  cron?: string;
  tz?: string;
  overwrite?: boolean;
  maxRuns?: number;
  startAt?: string;
  endAt?: string;
  disabled?: boolean;
  tree?: string;
}

function isoFlag(flag: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const t = parseIsoTime(value);
  if (t === null) throw new InputError(`${flag} ${value}: expected an ISO 8601 time with a zone, like 2025-06-01T09:00:00Z or 2025-06-01T09:00:00+02:00 (or a date, 2025-06-01)`, flag.slice(2));
  return t;
}

/** Checks a scheduled grove command line: an existing command, no --as/--db, not a daemon. */
export async function checkArgv(argv: readonly string[]): Promise<void> {
  for (const a of argv) {
    if (a === "--") break;
    const m = /^--(as|db)(=|$)/.exec(a);
    if (m) throw new InputError(`--${m[1]} in the scheduled command: it always runs ${m[1] === "as" ? "as the schedule's owner" : "on the database of whoever fires it"}; remove it`, "argv");
  }
  const { buildProgram } = await import("./program.js");
  let cmd = buildProgram();
  const path: string[] = [];
  for (const word of argv) {
    if (word.startsWith("-")) break;
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    cmd = sub;
    path.push(word);
  }
  if (path.length === 0) throw new InputError(`scheduled command: "${argv[0]}" is not a grove command`, "argv");
  if (cmd.commands.length > 0) {
    throw new InputError(`scheduled command: "${path.join(" ")}" needs a subcommand (${cmd.commands.map((c) => c.name()).join(", ")})`, "argv");
  }
  for (const bad of FORBIDDEN_ARGV) {
    if (bad.every((w, i) => path[i] === w)) throw new InputError(`scheduled command: "grove ${bad.join(" ")}" cannot be scheduled (it would run forever or fire schedules from a schedule)`, "argv");
  }
}

export async function addCommand(argv: string[], opts: AddOpts): Promise<void> {
  if (!opts.name) throw new InputError("--name is required", "name");
  if (!NAME_RE.test(opts.name)) throw new InputError(`--name ${opts.name}: use letters, digits and . _ : - (at most 128, starting with a letter or digit)`, "name");
  const kinds = [opts.oneshot && "--oneshot", opts.at !== undefined && "--at", opts.every !== undefined && "--every", opts.cron !== undefined && "--cron"].filter(Boolean);
  if (kinds.length !== 1) {
    throw new InputError(`give exactly one of --oneshot, --at ISO, --every DURATION, --cron EXPR${kinds.length ? ` (got ${kinds.join(" and ")})` : ""}`, "kind");
  }
  if (opts.tz !== undefined && opts.cron === undefined) throw new InputError("--tz only applies to --cron", "tz");
  const at = isoFlag("--at", opts.at);
  const startAt = isoFlag("--start-at", opts.startAt);
  const endAt = isoFlag("--end-at", opts.endAt);
  if (startAt !== null && endAt !== null && endAt <= startAt) throw new InputError("--end-at must be after --start-at", "end-at");
  let everyMs: number | null = null;
  if (opts.every !== undefined) {
    everyMs = parseDuration(opts.every);
    if (everyMs === null) throw new InputError(`--every ${opts.every}: expected a duration like 90s, 5m, 2h or 1d`, "every");
  }
  let tz: string | null = null;
  if (opts.cron !== undefined) {
    tz = opts.tz ?? localTimeZone();
    if (!isTimeZone(tz)) throw new InputError(`--tz ${tz}: not a known IANA time zone (like Europe/Paris or UTC)`, "tz");
    try {
      checkCron(opts.cron, tz);
    } catch (err) {
      throw new InputError(`--cron "${opts.cron}": ${(err as Error).message}`, "cron");
    }
  }
  if (opts.tree !== undefined && argv.length > 0) throw new InputError("give either --tree FILE or a grove command line after --, not both", "target");
  if (opts.tree === undefined && argv.length === 0) throw new InputError("give what to fire: --tree FILE, or a grove command line after -- (e.g. -- tasks list --json)", "target");
  if (argv.length > 0) await checkArgv(argv);

  await withSchedules(opts, async (schedules, grove) => {
    let target: ScheduleTarget;
    if (opts.tree !== undefined) {
      const doc = await grove.readTreeFile(opts.tree);
      const name = basename(opts.tree, extname(opts.tree));
      // The same checks as `grove run`, now, so that a bad tree is refused at add time.
      loadTree(doc, { registry: grove.registry, owner: grove.scope, defaultName: name, machines: await grove.machines?.fleetView(grove.scope) });
      target = { type: "tree", name, tree: doc };
    } else {
      target = { type: "argv", argv };
    }
    const def: NewSchedule = {
      owner: grove.scope,
      name: opts.name!,
      kind: opts.oneshot || at !== null ? "oneshot" : everyMs !== null ? "interval" : "cron",
      at: opts.oneshot ? Date.now() : at,
      every_ms: everyMs,
      cron: opts.cron ?? null,
      tz,
      max_runs: opts.maxRuns ?? null,
      start_at: startAt,
      end_at: endAt,
      target,
      enabled: !opts.disabled,
    };
    const s = await schedules.add(def, { overwrite: !!opts.overwrite });
    if (opts.json) return printJson(scheduleJson(s));
    const owner = s.owner ? ` (owner ${s.owner})` : "";
    const next = !s.enabled ? "disabled" : s.next_due_at === null ? "will not fire" : `next due ${time(s.next_due_at)}`;
    write(`${s.version > 1 ? "replaced" : "added"} schedule ${s.name} v${s.version}${owner}: ${describeSpec(s)}; ${next}\n`);
  });
}

// ---- list / show ------------------------------------------------------------------------------

export async function listCommand(opts: GlobalOptions & { all?: boolean }): Promise<void> {
  await withSchedules(opts, async (schedules, grove) => {
    const list = await schedules.list({ scope: grove.scope, includeDeleted: !!opts.all });
    if (opts.json) return printJson(list.map(scheduleJson));
    if (list.length === 0) return void write("no schedules\n");
    const rows = list.map((s) => [
      s.name,
      `v${s.version}`,
      s.owner || "-",
      describeSpec(s),
      s.deleted_at !== null ? "deleted" : s.enabled ? "enabled" : "disabled",
      String(s.run_count),
      String(s.error_count),
      time(s.last_fired_at),
      time(s.next_due_at),
      s.last_error ? `${s.last_error.type}: ${s.last_error.message}` : "",
    ]);
    write(table([["NAME", "VERSION", "OWNER", "WHEN", "STATE", "RUNS", "ERRORS", "LAST FIRED", "NEXT DUE", "LAST ERROR"], ...rows]));
  });
}

export async function showCommand(name: string, opts: GlobalOptions): Promise<void> {
  await withSchedules(opts, async (schedules, grove) => {
    const s = await resolve(schedules, name, grove.scope, true);
    const versions = await schedules.versions(s.owner, s.name);
    const runs = await schedules.runs({ scope: grove.scope, owner: s.owner, name: s.name, limit: 10 });
    if (opts.json) return printJson({ ...scheduleJson(s), versions: versions.map(versionJson), recent_runs: runs.map(runJson) });
    const out: string[] = [
      `${s.name} v${s.version}${s.owner ? ` (owner ${s.owner})` : ""}${s.deleted_at !== null ? " — deleted" : s.enabled ? "" : " — disabled"}`,
      `  when        ${describeSpec(s)}`,
      `  target      ${s.target.type === "tree" ? `tree ${s.target.name}` : `grove ${s.target.argv.join(" ")}`}`,
      `  runs        ${s.run_count} (${s.error_count} failed)`,
      `  last fired  ${time(s.last_fired_at)}${s.last_status ? ` (${s.last_status})` : ""}`,
      `  next due    ${time(s.next_due_at)}`,
    ];
    if (s.last_error) out.push(`  last error  ${s.last_error.type}: ${s.last_error.message}`);
    if (versions.length > 1) out.push(`  versions    ${versions.map((v) => `v${v.version} ${time(v.created_at)}`).join(", ")}`);
    for (const r of runs) out.push(`  run ${r.id}  ${r.status.padEnd(9)} ${time(r.started_at)}${r.error ? `  ${r.error.type}: ${r.error.message}` : ""}`);
    write(out.join("\n") + "\n");
  });
}

// ---- run --------------------------------------------------------------------------------------

interface RunOpts extends GlobalOptions {
  streamAll?: boolean;
  limit?: number;
  concurrency: number;
  leaseMs?: number;
  allowPrivateNetwork?: boolean;
}

/**
 * Where the output of `schedules run` goes: printing never holds a run back, and once the reader
 * has gone (EPIPE) output is dropped while the runs go on and are stored.
 */
let stdoutGone = false;
let watchingStdout = false;

function lineOutput(json: boolean) {
  let closed = false;
  const stdout = io().stdout;
  const onError = () => {
    closed = true;
  };
  if (stdout === process.stdout && !watchingStdout) {
    // Stays attached: a write queued before the reader left may fail after the command ended.
    watchingStdout = true;
    process.stdout.on("error", () => (stdoutGone = true));
  }
  const gone = () => closed || (stdout === process.stdout && stdoutGone);
  let chain = Promise.resolve();
  return {
    line(value: unknown, text: string) {
      if (gone()) return;
      if (json) chain = chain.then(() => printJsonLine(value)).catch(onError);
      else {
        try {
          write(text);
        } catch {
          closed = true;
        }
      }
    },
    async end() {
      await chain;
    },
  };
}

export function itemText(item: RunItem): string {
  switch (item.type) {
    case "output":
      return typeof item.value === "string" ? item.value : JSON.stringify(item.value);
    case "stderr":
      return `! ${item.text}`;
    case "tree":
      return `tree ${item.tree_id}`;
    case "event": {
      const d = item.event.data as { name?: string; message?: string; line?: string; error?: { type: string; message: string } };
      const what = d.line ?? d.message ?? (d.error ? `${d.error.type}: ${d.error.message}` : "");
      return `${String(item.event.type).padEnd(15)} ${d.name ?? ""} ${what}`.trimEnd();
    }
    case "result": {
      const r = item.value as { status?: string; name?: string };
      return `tree ${r.name ?? ""} ${r.status ?? ""}`.trim();
    }
    case "error":
      return `✘ ${item.error.type}: ${item.error.message}`;
  }
}

const ident = (c: ClaimedRun) => ({ schedule: c.run.name, version: c.run.version, owner: c.run.owner, run_id: c.run.id });

export async function runCommand(opts: RunOpts): Promise<void> {
  const grove = await openGrove(opts);
  const out = lineOutput(!!opts.json);
  let firer: ScheduleFirer | undefined;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted || !firer) process.exit(130);
    interrupted = true;
    writeErr("grove: interrupted; the runs in flight are recorded as abandoned\n");
    void firer
      .abandonAll({ type: "abandoned", message: "grove schedules run was interrupted before the run finished" })
      .finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const schedules = schedulesOf(grove.store);
    firer = new ScheduleFirer({
      store: grove.store,
      schedules,
      scope: grove.scope,
      leaseMs: opts.leaseMs,
      concurrency: opts.concurrency,
      db: dbSpec(opts),
      executorModules: opts.executors,
      executors: grove.registry.list(),
      settings: opts.allowPrivateNetwork ? { allowPrivateNetwork: true } : undefined,
      onItem: opts.streamAll ? (c: ClaimedRun, i: StoredItem) => out.line({ ...ident(c), item: i.item }, `${c.run.name} v${c.run.version} ${c.run.id}: ${itemText(i.item)}\n`) : undefined,
      onFinish: opts.streamAll ? undefined : (c: ClaimedRun, o: RunOutcome) => out.line({ ...ident(c), success: o.success }, summaryText(c, o)),
      onWarning: (m: string) => writeErr(`grove: ${m}\n`),
    });
    const abandoned = await firer.abandonExpired();
    for (const r of abandoned) writeErr(`grove: run ${r.id} of schedule ${r.name} was abandoned: ${r.error?.message}\n`);
    const claimed = await firer.claim(opts.limit ?? Number.MAX_SAFE_INTEGER);
    const outcomes = await firer.wait(claimed.map((c) => c.run.id));
    if (claimed.length === 0 && !opts.json) out.line(null, "no schedules due\n");
    await out.end();
    setExitCode(outcomes.length === claimed.length && outcomes.every((o) => o.success) ? 0 : 1);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    firer?.close();
    await grove.close();
  }
}

function summaryText(c: ClaimedRun, o: RunOutcome): string {
  const owner = c.run.owner ? ` (${c.run.owner})` : "";
  const took = `${((Date.now() - c.run.started_at) / 1000).toFixed(1)}s`;
  if (o.success) return `✔ ${c.run.name} v${c.run.version}${owner} run ${c.run.id} succeeded in ${took}, ${o.items} item${o.items === 1 ? "" : "s"}\n`;
  return `✘ ${c.run.name} v${c.run.version}${owner} run ${c.run.id} failed in ${took}: ${o.error ? `${o.error.type}: ${o.error.message}` : "unknown error"}\n`;
}

// ---- logs -------------------------------------------------------------------------------------

export async function logsCommand(name: string, opts: GlobalOptions & { run?: string; limit: number }): Promise<void> {
  await withSchedules(opts, async (schedules, grove) => {
    const s = await resolve(schedules, name, grove.scope, true);
    const runs = await schedules.runs({ scope: grove.scope, owner: s.owner, name: s.name, runId: opts.run, limit: opts.limit });
    if (opts.run && runs.length === 0) throw new NotFoundError(`schedule "${name}" has no run ${opts.run}`);
    const items = await schedules.items(runs.map((r) => r.id));
    const byRun = new Map<string, StoredItem[]>();
    for (const i of items) byRun.set(i.run_id, [...(byRun.get(i.run_id) ?? []), i]);
    if (opts.json) {
      return printJson(runs.map((r) => ({ ...runJson(r), items: (byRun.get(r.id) ?? []).map((i) => ({ seq: i.seq, at: iso(i.at), item: i.item })) })));
    }
    if (runs.length === 0) return void write(`schedule ${s.name} has no runs\n`);
    const lines: string[] = [];
    for (const r of runs) {
      const took = r.finished_at !== null ? ` in ${((r.finished_at - r.started_at) / 1000).toFixed(1)}s` : "";
      lines.push(`run ${r.id} v${r.version} ${r.status}${took} at ${time(r.started_at)}${r.error ? ` — ${r.error.type}: ${r.error.message}` : ""}`);
      for (const i of byRun.get(r.id) ?? []) lines.push(`  ${itemText(i.item)}`);
    }
    write(lines.join("\n") + "\n");
  });
}

// ---- delete / enable / disable / prune --------------------------------------------------------

export async function deleteCommand(name: string, opts: GlobalOptions): Promise<void> {
  await withSchedules(opts, async (schedules, grove) => {
    const s = await resolve(schedules, name, grove.scope);
    await schedules.remove(s.owner, s.name);
    if (opts.json) return printJson({ name: s.name, owner: s.owner, version: s.version, deleted: true });
    write(`deleted schedule ${s.name}${s.owner ? ` (owner ${s.owner})` : ""}; its ${s.version} version${s.version === 1 ? "" : "s"} and runs are kept\n`);
  });
}

export async function enableCommand(name: string, enabled: boolean, opts: GlobalOptions): Promise<void> {
  await withSchedules(opts, async (schedules, grove) => {
    const s = await resolve(schedules, name, grove.scope);
    const updated = (await schedules.setEnabled(s.owner, s.name, enabled))!;
    if (opts.json) return printJson(scheduleJson(updated));
    write(`${enabled ? "enabled" : "disabled"} schedule ${s.name}${enabled && updated.next_due_at !== null ? `; next due ${time(updated.next_due_at)}` : ""}\n`);
  });
}

export async function pruneCommand(opts: GlobalOptions & { olderThan?: string }): Promise<void> {
  if (opts.olderThan === undefined) throw new InputError("--older-than is required (e.g. --older-than 30d)", "older-than");
  const age = parseDuration(opts.olderThan);
  if (age === null) throw new InputError(`--older-than ${opts.olderThan}: expected a duration like 90s, 5m, 2h or 30d`, "older-than");
  await withSchedules(opts, async (schedules, grove) => {
    const before = Date.now() - age;
    const n = await schedules.prune({ scope: grove.scope, before });
    if (opts.json) return printJson({ ...n, before: iso(before) });
    write(`pruned ${n.runs} run${n.runs === 1 ? "" : "s"} and ${n.items} item${n.items === 1 ? "" : "s"} finished before ${time(before)} (older than ${formatDuration(age)})\n`);
  });
}
