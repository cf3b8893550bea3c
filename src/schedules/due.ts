// When a schedule is due (DESIGN §7). Pure functions of the schedule's definition and the clock,
// shared by every store: the store keeps `next_due_at` on the schedule's row and a claim fires
// every row with `next_due_at <= now`, then stores the next due time computed here.
//
// - oneshot: due at `at` (`--oneshot` = the time it was added), once.
// - interval: first due at `start_at`, or when added; then `every` after each firing, counted
//   from the firing (now − last_fired ≥ every).
// - cron: due at the first cron time after it was added (or at/after `start_at`); after a firing,
//   at the first cron time after that firing. A claim fires a schedule at most once however many
//   cron times passed while nothing was running (no catch-up storm), and the next time is then
//   computed from now.
// - max_runs: no due time once that many firings happened; end_at: never due after it.
import type { Cron } from "croner";
import { createRequire } from "node:module";
import type { ScheduleSpec } from "./model.js";

// croner is loaded on first use (~15 ms): every command opening the store imports this module.
const require = createRequire(import.meta.url);
let CronClass: typeof Cron | undefined;
function newCron(expr: string, tz: string | null): Cron {
  CronClass ??= (require("croner") as typeof import("croner")).Cron;
  return new CronClass(expr, { timezone: tz ?? undefined, mode: "5-or-6-parts" });
}

const crons = new Map<string, Cron>();

function cronOf(expr: string, tz: string | null): Cron {
  const key = `${tz ?? ""}\u0000${expr}`;
  let c = crons.get(key);
  if (!c) {
    c = newCron(expr, tz);
    if (crons.size > 1000) crons.clear();
    crons.set(key, c);
  }
  return c;
}

/** Throws an Error with a readable message when `expr` is not a cron expression croner accepts. */
export function checkCron(expr: string, tz: string | null): void {
  const c = newCron(expr, tz);
  // Patterns that never match (`0 0 30 2 *`) are rejected too: they would never fire.
  if (c.nextRun(new Date(0)) === null) throw new Error(`"${expr}" never matches a date`);
}

/** Whether `tz` is an IANA time zone this Node knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The time zone of this machine, stored with a cron schedule added without `--tz`. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The first cron time strictly after `afterMs` (whole seconds), or null. */
export function cronNext(expr: string, tz: string | null, afterMs: number): number | null {
  const d = cronOf(expr, tz).nextRun(new Date(afterMs));
  return d ? d.getTime() : null;
}

function bounded(spec: ScheduleSpec, t: number | null): number | null {
  if (t === null) return null;
  if (spec.end_at !== null && t > spec.end_at) return null;
  return t;
}

/** The first due time of a schedule version created at `createdAt`; null: it will never fire. */
export function firstDue(spec: ScheduleSpec, createdAt: number): number | null {
  switch (spec.kind) {
    case "oneshot":
      return bounded(spec, Math.max(spec.at ?? createdAt, spec.start_at ?? -Infinity));
    case "interval":
      return bounded(spec, spec.start_at ?? createdAt);
    case "cron": {
      // A cron time that has passed since creation; with start_at, the first one at or after it.
      const after = spec.start_at !== null && spec.start_at - 1 > createdAt ? spec.start_at - 1 : createdAt;
      return bounded(spec, cronNext(spec.cron!, spec.tz, after));
    }
  }
}

/**
 * The due time after a firing at `firedAt` (the claim's now), `runCount` firings so far counting
 * this one; null: it will not fire again.
 */
export function nextDue(spec: ScheduleSpec, firedAt: number, runCount: number): number | null {
  if (spec.max_runs !== null && runCount >= spec.max_runs) return null;
  switch (spec.kind) {
    case "oneshot":
      return null;
    case "interval":
      return bounded(spec, firedAt + spec.every_ms!);
    case "cron":
      return bounded(spec, cronNext(spec.cron!, spec.tz, firedAt));
  }
}

/** Whether a schedule whose stored due time is `dueAt` may fire at `now`. */
export function canFire(spec: ScheduleSpec, dueAt: number | null, now: number): boolean {
  return dueAt !== null && dueAt <= now && (spec.end_at === null || now <= spec.end_at);
}
