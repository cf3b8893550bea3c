// Due-time computation (DESIGN §7) with a fake clock: every time below is given, nothing waits.
import { describe, expect, it } from "vitest";
import { canFire, checkCron, cronNext, firstDue, isTimeZone, nextDue } from "../../src/schedules/due.js";
import { formatDuration, parseDuration, parseIsoTime } from "../../src/schedules/duration.js";
import type { ScheduleSpec } from "../../src/schedules/model.js";

const t = (s: string) => Date.parse(s);
const z = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function spec(over: Partial<ScheduleSpec>): ScheduleSpec {
  return { kind: "cron", at: null, every_ms: null, cron: null, tz: null, max_runs: null, start_at: null, end_at: null, ...over };
}
const cron = (expr: string, tz = "UTC", over: Partial<ScheduleSpec> = {}) => spec({ kind: "cron", cron: expr, tz, ...over });

/** The first `n` due times of a schedule that always fires exactly when due. */
function dueTimes(s: ScheduleSpec, createdAt: number, n: number): (string | null)[] {
  const out: (string | null)[] = [];
  let due = firstDue(s, createdAt);
  for (let i = 1; i <= n && due !== null; i++) {
    out.push(z(due));
    due = nextDue(s, due, i);
  }
  return out;
}

/**
 * A fake clock driving the claim rule: at each claim time, fire if due (at most once), then store
 * the next due time computed from that claim. Returns the fired due slots and the final due time.
 */
function simulate(s: ScheduleSpec, createdAt: number, claims: number[]): { fired: string[]; firedAt: string[]; next: string | null } {
  let due = firstDue(s, createdAt);
  let runs = 0;
  const fired: string[] = [];
  const firedAt: string[] = [];
  for (const now of claims) {
    if (!canFire(s, due, now)) continue;
    fired.push(z(due)!);
    firedAt.push(z(now)!);
    due = nextDue(s, now, ++runs);
  }
  return { fired, firedAt, next: z(due) };
}

describe("cron due times across DST changes (Europe/Paris)", () => {
  const cases: [string, string, string, string[]][] = [
    // spring forward, 2025-03-30: 02:00 CET → 03:00 CEST. A daily time inside the gap runs once,
    // at the first valid time after it; the next day is at 02:30 CEST again.
    ["30 2 * * * in the spring gap", "30 2 * * *", "2025-03-29T12:00:00Z", ["2025-03-30T01:00:00.000Z", "2025-03-31T00:30:00.000Z"]],
    // hourly jobs skip the hour that does not exist
    ["0 * * * * over spring forward", "0 * * * *", "2025-03-29T23:30:00Z", ["2025-03-30T00:00:00.000Z", "2025-03-30T01:00:00.000Z", "2025-03-30T02:00:00.000Z"]],
    // fall back, 2025-10-26: 03:00 CEST → 02:00 CET. A daily 02:30 runs once, not twice.
    ["30 2 * * * in the repeated hour", "30 2 * * *", "2025-10-25T12:00:00Z", ["2025-10-26T00:30:00.000Z", "2025-10-27T01:30:00.000Z"]],
    // a repeating job runs on both occurrences of the repeated local times (they are distinct instants)
    [
      "*/30 * * * * over fall back",
      "*/30 * * * *",
      "2025-10-25T23:45:00Z",
      ["2025-10-26T00:00:00.000Z", "2025-10-26T00:30:00.000Z", "2025-10-26T01:00:00.000Z", "2025-10-26T01:30:00.000Z", "2025-10-26T02:00:00.000Z"],
    ],
    // the local time stays 09:00; UTC moves by an hour
    ["0 9 * * * around spring forward", "0 9 * * *", "2025-03-29T00:00:00Z", ["2025-03-29T08:00:00.000Z", "2025-03-30T07:00:00.000Z", "2025-03-31T07:00:00.000Z"]],
    ["0 9 * * * around fall back", "0 9 * * *", "2025-10-25T00:00:00Z", ["2025-10-25T07:00:00.000Z", "2025-10-26T08:00:00.000Z", "2025-10-27T08:00:00.000Z"]],
  ];
  for (const [label, expr, created, expected] of cases) {
    it(label, () => {
      expect(dueTimes(cron(expr, "Europe/Paris"), t(created), expected.length)).toEqual(expected);
    });
  }
});

describe("cron due times at month ends and leap days", () => {
  const cases: [string, string, string, string[]][] = [
    ["0 0 31 * * fires only in 31-day months", "0 0 31 * *", "2025-01-15T00:00:00Z", ["2025-01-31T00:00:00.000Z", "2025-03-31T00:00:00.000Z", "2025-05-31T00:00:00.000Z", "2025-07-31T00:00:00.000Z", "2025-08-31T00:00:00.000Z", "2025-10-31T00:00:00.000Z", "2025-12-31T00:00:00.000Z"]],
    ["0 0 30 * * skips February", "0 0 30 * *", "2025-01-31T00:00:00Z", ["2025-03-30T00:00:00.000Z", "2025-04-30T00:00:00.000Z"]],
    ["0 0 L * * is the last day of each month", "0 0 L * *", "2024-01-15T00:00:00Z", ["2024-01-31T00:00:00.000Z", "2024-02-29T00:00:00.000Z", "2024-03-31T00:00:00.000Z", "2024-04-30T00:00:00.000Z"]],
    ["0 0 L * * in a common year", "0 0 L * *", "2025-02-01T00:00:00Z", ["2025-02-28T00:00:00.000Z", "2025-03-31T00:00:00.000Z"]],
    ["0 0 29 2 * from a common year waits for the next leap year", "0 0 29 2 *", "2025-01-01T00:00:00Z", ["2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"]],
    ["0 0 29 2 * in a leap year", "0 0 29 2 *", "2024-01-01T00:00:00Z", ["2024-02-29T00:00:00.000Z", "2028-02-29T00:00:00.000Z"]],
    ["0 0 29 2 * created on the leap day itself", "0 0 29 2 *", "2024-02-29T00:00:00Z", ["2028-02-29T00:00:00.000Z"]],
    ["year end", "59 23 31 12 *", "2025-12-31T23:59:30Z", ["2026-12-31T23:59:00.000Z"]],
  ];
  for (const [label, expr, created, expected] of cases) {
    it(label, () => {
      expect(dueTimes(cron(expr), t(created), expected.length)).toEqual(expected);
    });
  }

  it("an interval crosses a leap day by exact durations", () => {
    const s = spec({ kind: "interval", every_ms: parseDuration("1d")! });
    expect(dueTimes(s, t("2024-02-28T06:00:00Z"), 3)).toEqual(["2024-02-28T06:00:00.000Z", "2024-02-29T06:00:00.000Z", "2024-03-01T06:00:00.000Z"]);
  });
});

describe("--tz", () => {
  const cases: [string, string, string][] = [
    ["UTC", "2025-01-15T00:00:00Z", "2025-01-15T09:00:00.000Z"],
    ["Europe/Paris", "2025-01-15T00:00:00Z", "2025-01-15T08:00:00.000Z"],
    ["Europe/Paris", "2025-07-15T00:00:00Z", "2025-07-15T07:00:00.000Z"],
    ["America/New_York", "2025-01-15T00:00:00Z", "2025-01-15T14:00:00.000Z"],
    ["America/New_York", "2025-07-15T00:00:00Z", "2025-07-15T13:00:00.000Z"],
    ["Asia/Tokyo", "2025-01-14T12:00:00Z", "2025-01-15T00:00:00.000Z"],
    ["Asia/Tokyo", "2025-01-15T00:00:00Z", "2025-01-16T00:00:00.000Z"],
    ["Asia/Kolkata", "2025-01-15T00:00:00Z", "2025-01-15T03:30:00.000Z"],
    ["Australia/Sydney", "2025-01-15T00:00:00Z", "2025-01-15T22:00:00.000Z"],
  ];
  for (const [tz, created, expected] of cases) {
    it(`0 9 * * * in ${tz} after ${created} is ${expected}`, () => {
      expect(z(firstDue(cron("0 9 * * *", tz), t(created)))).toBe(expected);
    });
  }
  it("knows IANA zones and refuses others", () => {
    expect(isTimeZone("Europe/Paris")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(isTimeZone("")).toBe(false);
  });
});

describe("after downtime a schedule fires once and its next time is computed from now", () => {
  it("cron: 72 missed hourly times → one firing, then the next hour after the claim", () => {
    const created = t("2025-01-01T00:10:00Z");
    const r = simulate(cron("0 * * * *"), created, [t("2025-01-04T00:20:00Z"), t("2025-01-04T00:20:01Z"), t("2025-01-04T00:59:59Z")]);
    expect(r.fired).toEqual(["2025-01-01T01:00:00.000Z"]);
    expect(r.next).toBe("2025-01-04T01:00:00.000Z");
  });

  it("cron in a zone, down over a DST change: one firing, next from now in local time", () => {
    const r = simulate(cron("0 9 * * *", "Europe/Paris"), t("2025-03-28T12:00:00Z"), [t("2025-04-02T10:00:00Z")]);
    expect(r.fired).toEqual(["2025-03-29T08:00:00.000Z"]);
    expect(r.next).toBe("2025-04-03T07:00:00.000Z");
  });

  it("interval: one firing, then every counted from the claim", () => {
    const s = spec({ kind: "interval", every_ms: parseDuration("5m")! });
    const created = t("2025-01-01T00:00:00Z");
    const r = simulate(s, created, [created, t("2025-01-01T03:00:00Z"), t("2025-01-01T03:04:59Z"), t("2025-01-01T03:05:00Z")]);
    expect(r.fired).toEqual(["2025-01-01T00:00:00.000Z", "2025-01-01T00:05:00.000Z", "2025-01-01T03:05:00.000Z"]);
    expect(r.firedAt).toEqual(["2025-01-01T00:00:00.000Z", "2025-01-01T03:00:00.000Z", "2025-01-01T03:05:00.000Z"]);
    expect(r.next).toBe("2025-01-01T03:10:00.000Z");
  });

  it("oneshot: fired late, once", () => {
    const s = spec({ kind: "oneshot", at: t("2025-01-01T00:00:00Z") });
    const r = simulate(s, t("2024-12-31T00:00:00Z"), [t("2025-01-05T00:00:00Z"), t("2025-01-06T00:00:00Z")]);
    expect(r).toEqual({ fired: ["2025-01-01T00:00:00.000Z"], firedAt: ["2025-01-05T00:00:00.000Z"], next: null });
  });

  it("a claim after end_at does not fire", () => {
    const s = spec({ kind: "interval", every_ms: 60_000, end_at: t("2025-01-01T01:00:00Z") });
    const r = simulate(s, t("2025-01-01T00:00:00Z"), [t("2025-01-01T02:00:00Z")]);
    expect(r.fired).toEqual([]);
  });
});

describe("first and next due times", () => {
  const created = t("2025-01-01T10:00:00Z");
  const cases: [string, ScheduleSpec, (string | null)[]][] = [
    ["--oneshot: at creation", spec({ kind: "oneshot", at: created }), ["2025-01-01T10:00:00.000Z"]],
    ["--at in the future", spec({ kind: "oneshot", at: t("2025-02-01T00:00:00Z") }), ["2025-02-01T00:00:00.000Z"]],
    ["--at after end_at never fires", spec({ kind: "oneshot", at: t("2025-02-01T00:00:00Z"), end_at: t("2025-01-15T00:00:00Z") }), []],
    ["--every: first at creation", spec({ kind: "interval", every_ms: 90_000 }), ["2025-01-01T10:00:00.000Z", "2025-01-01T10:01:30.000Z", "2025-01-01T10:03:00.000Z"]],
    ["--every with start_at", spec({ kind: "interval", every_ms: 3_600_000, start_at: t("2025-01-02T00:00:00Z") }), ["2025-01-02T00:00:00.000Z", "2025-01-02T01:00:00.000Z"]],
    ["--every with max_runs 2", spec({ kind: "interval", every_ms: 60_000, max_runs: 2 }), ["2025-01-01T10:00:00.000Z", "2025-01-01T10:01:00.000Z"]],
    ["--every with end_at", spec({ kind: "interval", every_ms: 60_000, end_at: t("2025-01-01T10:02:00Z") }), ["2025-01-01T10:00:00.000Z", "2025-01-01T10:01:00.000Z", "2025-01-01T10:02:00.000Z"]],
    ["--cron: a time after creation, not at it", cron("0 10 * * *"), ["2025-01-02T10:00:00.000Z"]],
    ["--cron with start_at on a cron time: inclusive", cron("0 * * * *", "UTC", { start_at: t("2025-01-03T05:00:00Z") }), ["2025-01-03T05:00:00.000Z", "2025-01-03T06:00:00.000Z"]],
    ["--cron with seconds", cron("*/20 * * * * *"), ["2025-01-01T10:00:20.000Z", "2025-01-01T10:00:40.000Z", "2025-01-01T10:01:00.000Z"]],
    ["--cron with max_runs 1", cron("0 * * * *", "UTC", { max_runs: 1 }), ["2025-01-01T11:00:00.000Z"]],
  ];
  for (const [label, s, expected] of cases) {
    it(label, () => {
      // a schedule that ends shows that it ends: no further due time
      const ends = s.kind === "oneshot" || s.max_runs !== null || s.end_at !== null;
      expect(dueTimes(s, created, ends ? expected.length + 3 : expected.length)).toEqual(expected);
    });
  }

  it("cronNext is strictly after the given time", () => {
    expect(z(cronNext("0 * * * *", "UTC", t("2025-01-01T10:00:00Z")))).toBe("2025-01-01T11:00:00.000Z");
    expect(z(cronNext("0 * * * *", "UTC", t("2025-01-01T09:59:59.999Z")))).toBe("2025-01-01T10:00:00.000Z");
  });

  it("canFire: due, not past end_at", () => {
    const s = spec({ kind: "interval", every_ms: 1000, end_at: 5000 });
    expect(canFire(s, 1000, 999)).toBe(false);
    expect(canFire(s, 1000, 1000)).toBe(true);
    expect(canFire(s, 1000, 5000)).toBe(true);
    expect(canFire(s, 1000, 5001)).toBe(false);
    expect(canFire(s, null, 2000)).toBe(false);
  });
});

describe("parsing", () => {
  const durations: [string, number | null][] = [
    ["90s", 90_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["30d", 2_592_000_000],
    [" 5m ", 300_000],
    ["0s", null],
    ["5", null],
    ["5x", null],
    ["-5m", null],
    ["1.5h", null],
    ["1h30m", null],
    ["", null],
  ];
  for (const [text, ms] of durations) it(`duration "${text}" → ${ms}`, () => expect(parseDuration(text)).toBe(ms));

  it("formats durations with the largest exact unit", () => {
    expect([90_000, 300_000, 7_200_000, 86_400_000, 1500].map(formatDuration)).toEqual(["90s", "5m", "2h", "1d", "1500ms"]);
  });

  const times: [string, string | null][] = [
    ["2025-06-01", "2025-06-01T00:00:00.000Z"],
    ["2025-06-01T09:00:00Z", "2025-06-01T09:00:00.000Z"],
    ["2025-06-01T09:00Z", "2025-06-01T09:00:00.000Z"],
    ["2025-06-01T09:00:00.250Z", "2025-06-01T09:00:00.250Z"],
    ["2025-06-01T09:00:00+02:00", "2025-06-01T07:00:00.000Z"],
    ["2025-06-01T09:00:00-0530", "2025-06-01T14:30:00.000Z"],
    ["2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000Z"],
    ["2025-02-29", null],
    ["2025-06-31T00:00:00Z", null],
    ["2025-06-01T09:00:00", null], // no zone: refused, not read in the machine's zone
    ["2025-06-01T25:00:00Z", null],
    ["tomorrow", null],
    ["1717232400000", null],
  ];
  for (const [text, expected] of times) it(`ISO time "${text}" → ${expected}`, () => expect(z(parseIsoTime(text))).toBe(expected));

  it("checks cron expressions", () => {
    for (const ok of ["*/5 * * * *", "0 9 * * 1-5", "0 0 L * *", "*/10 * * * * *"]) expect(() => checkCron(ok, "UTC")).not.toThrow();
    for (const bad of ["* * * *", "61 * * * *", "0 0 30 2 *", "hello", "* * * * * * * *"]) expect(() => checkCron(bad, "UTC")).toThrow();
  });
});
