// schedules.* : the operations of `grove schedules`, within the caller's scope. Over the API a
// schedule's target is a tree definition; grove command-line (argv) targets can only be added
// with the CLI, because they run grove commands with the server's own files and database.
import { z } from "zod";
import { iso } from "../../client/result.js";
import { InputError, NotFoundError } from "../../core/errors.js";
import { checkCron, isTimeZone } from "../../schedules/due.js";
import { parseDuration, parseIsoTime } from "../../schedules/duration.js";
import { NAME_RE, RUN_STATUSES, runJson, scheduleJson, versionJson, type NewSchedule, type Schedule } from "../../schedules/model.js";
import { schedulesOf } from "../../store/schedule-store.js";
import { loadTree } from "../../tree/index.js";
import { RunItemJson, RunJson, ScheduleJson, VersionJson } from "../../cli/schedule-contracts.js";
import { fireSchedules } from "../schedule-fire.js";
import { defineMethod, type MethodContext } from "./registry.js";
import { TreeDoc } from "./shapes.js";

const name = z.string().regex(NAME_RE, "use letters, digits and . _ : - (at most 128, starting with a letter or digit)");

async function resolve(ctx: MethodContext, n: string, includeDeleted = false): Promise<Schedule> {
  const s = await schedulesOf(ctx.services.store).get(n, ctx.scope, { includeDeleted });
  if (!s) throw new NotFoundError(`no schedule "${n}"`);
  return s;
}

function isoParam(field: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const t = parseIsoTime(value);
  if (t === null) throw new InputError(`${field}: expected an ISO 8601 time with a zone, like 2025-06-01T09:00:00Z`, field);
  return t;
}

export const schedulesAdd = defineMethod({
  name: "schedules.add",
  description: "Add a schedule firing a tree (exactly one of oneshot, at, every, cron); `overwrite` adds the next version of an existing name.",
  params: z
    .object({
      name,
      tree: TreeDoc,
      tree_name: z.string().max(200).optional(),
      oneshot: z.boolean().optional(),
      at: z.string().optional(),
      every: z.string().optional(),
      cron: z.string().max(200).optional(),
      tz: z.string().max(100).optional(),
      overwrite: z.boolean().optional(),
      max_runs: z.number().int().positive().optional(),
      start_at: z.string().optional(),
      end_at: z.string().optional(),
      disabled: z.boolean().optional(),
    })
    .strict(),
  result: ScheduleJson,
  async handler(p, ctx) {
    const kinds = [p.oneshot && "oneshot", p.at !== undefined && "at", p.every !== undefined && "every", p.cron !== undefined && "cron"].filter(Boolean);
    if (kinds.length !== 1) throw new InputError(`give exactly one of oneshot, at, every, cron${kinds.length ? ` (got ${kinds.join(" and ")})` : ""}`, "kind");
    if (p.tz !== undefined && p.cron === undefined) throw new InputError("tz only applies to cron", "tz");
    const at = isoParam("at", p.at);
    const startAt = isoParam("start_at", p.start_at);
    const endAt = isoParam("end_at", p.end_at);
    if (startAt !== null && endAt !== null && endAt <= startAt) throw new InputError("end_at must be after start_at", "end_at");
    let everyMs: number | null = null;
    if (p.every !== undefined) {
      everyMs = parseDuration(p.every);
      if (everyMs === null) throw new InputError(`every ${p.every}: expected a duration like 90s, 5m, 2h or 1d`, "every");
    }
    let tz: string | null = null;
    if (p.cron !== undefined) {
      tz = p.tz ?? "UTC";
      if (!isTimeZone(tz)) throw new InputError(`tz ${tz}: not a known IANA time zone`, "tz");
      try {
        checkCron(p.cron, tz);
      } catch (err) {
        throw new InputError(`cron "${p.cron}": ${(err as Error).message}`, "cron");
      }
    }
    const treeName = p.tree_name ?? p.name;
    // The same checks as tasks.create, now, so that a bad tree is refused at add time.
    loadTree(p.tree, { registry: ctx.services.registry, owner: ctx.scope, defaultName: treeName });
    const def: NewSchedule = {
      owner: ctx.scope,
      name: p.name,
      kind: p.oneshot || at !== null ? "oneshot" : everyMs !== null ? "interval" : "cron",
      at: p.oneshot ? Date.now() : at,
      every_ms: everyMs,
      cron: p.cron ?? null,
      tz,
      max_runs: p.max_runs ?? null,
      start_at: startAt,
      end_at: endAt,
      target: { type: "tree", name: treeName, tree: p.tree },
      enabled: !p.disabled,
    };
    return scheduleJson(await schedulesOf(ctx.services.store).add(def, { overwrite: !!p.overwrite })) as z.input<typeof ScheduleJson>;
  },
});

export const schedulesList = defineMethod({
  name: "schedules.list",
  description: "The caller's schedules (with `all`, deleted ones too).",
  params: z.object({ all: z.boolean().optional() }).strict(),
  result: z.array(ScheduleJson),
  async handler(p, ctx) {
    const list = await schedulesOf(ctx.services.store).list({ scope: ctx.scope, includeDeleted: !!p.all });
    return list.map(scheduleJson) as z.input<typeof ScheduleJson>[];
  },
});

export const schedulesShow = defineMethod({
  name: "schedules.show",
  description: "One schedule with its versions and recent runs.",
  params: z.object({ name }).strict(),
  result: ScheduleJson.extend({ versions: z.array(VersionJson), recent_runs: z.array(RunJson) }),
  async handler(p, ctx) {
    const schedules = schedulesOf(ctx.services.store);
    const s = await resolve(ctx, p.name, true);
    const versions = await schedules.versions(s.owner, s.name);
    const runs = await schedules.runs({ scope: ctx.scope, owner: s.owner, name: s.name, limit: 10 });
    return { ...scheduleJson(s), versions: versions.map(versionJson), recent_runs: runs.map(runJson) } as never;
  },
});

export const schedulesRun = defineMethod({
  name: "schedules.run",
  description:
    "Fire schedules: with `name`, that schedule now (on demand; its next due time is unchanged); without, every due schedule in the caller's scope. With `wait: false`, returns the started runs at once.",
  params: z.object({ name: name.optional(), wait: z.boolean().default(true) }).strict(),
  result: z.array(
    z.object({ schedule: z.string(), version: z.number().int(), owner: z.string(), run_id: z.string(), status: z.enum(RUN_STATUSES), success: z.boolean().nullable() }),
  ),
  async handler(p, ctx) {
    return (await fireSchedules(ctx.services, ctx.scope, { name: p.name, wait: p.wait })) as never;
  },
});

export const schedulesLogs = defineMethod({
  name: "schedules.logs",
  description: "The stored runs of a schedule (newest `limit`, oldest first) with every item, errors included.",
  params: z.object({ name, run: z.string().max(200).optional(), limit: z.number().int().min(1).max(1000).default(20) }).strict(),
  result: z.array(RunJson.extend({ items: z.array(z.object({ seq: z.number().int(), at: z.string(), item: RunItemJson })) })),
  async handler(p, ctx) {
    const schedules = schedulesOf(ctx.services.store);
    const s = await resolve(ctx, p.name, true);
    const runs = await schedules.runs({ scope: ctx.scope, owner: s.owner, name: s.name, runId: p.run, limit: p.limit });
    if (p.run && runs.length === 0) throw new NotFoundError(`schedule "${p.name}" has no run ${p.run}`);
    const items = await schedules.items(runs.map((r) => r.id));
    return runs.map((r) => ({
      ...runJson(r),
      items: items.filter((i) => i.run_id === r.id).map((i) => ({ seq: i.seq, at: iso(i.at)!, item: i.item })),
    })) as never;
  },
});

export const schedulesDelete = defineMethod({
  name: "schedules.delete",
  description: "Delete a schedule (its versions and runs are kept); its webhook secret is removed.",
  params: z.object({ name }).strict(),
  result: z.object({ name: z.string(), owner: z.string(), version: z.number().int(), deleted: z.literal(true) }),
  async handler(p, ctx) {
    const s = await resolve(ctx, p.name);
    await schedulesOf(ctx.services.store).remove(s.owner, s.name);
    await ctx.services.hooks.remove(s.owner, s.name);
    return { name: s.name, owner: s.owner, version: s.version, deleted: true as const };
  },
});

export const schedulesWebhook = defineMethod({
  name: "schedules.webhook",
  description:
    "The inbound webhook of a schedule: POST /hooks/schedules/:name signed with this secret fires it. Creates the secret on first use; `rotate` replaces it. The secret is only returned by this call.",
  params: z.object({ name, rotate: z.boolean().optional() }).strict(),
  result: z.object({ name: z.string(), owner: z.string(), path: z.string(), secret: z.string(), created: z.boolean(), signature_header: z.string(), timestamp_header: z.string() }),
  async handler(p, ctx) {
    const s = await resolve(ctx, p.name);
    const { secret, created } = await ctx.services.hooks.secret(s.owner, s.name, { rotate: p.rotate });
    const { SIGNATURE_HEADER, TIMESTAMP_HEADER } = await import("../hooks/signature.js");
    return { name: s.name, owner: s.owner, path: `/hooks/schedules/${encodeURIComponent(s.name)}`, secret, created, signature_header: SIGNATURE_HEADER, timestamp_header: TIMESTAMP_HEADER };
  },
});

export const SCHEDULE_METHODS = [schedulesAdd, schedulesList, schedulesShow, schedulesRun, schedulesLogs, schedulesDelete, schedulesWebhook];
