// The ScheduleStore conformance suite (DESIGN §7, §8): it uses the ScheduleStore interface only,
// with explicit clocks, so every store runs it unchanged (sqlite-store.test.ts; PostgreSQL next).
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import type { NewSchedule, RunItem } from "../../src/schedules/model.js";
import { schedulesOf, type ScheduleStore } from "../../src/store/schedule-store.js";
import type { Store } from "../../src/store/store.js";

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

export function def(name: string, over: Partial<NewSchedule> = {}): NewSchedule {
  return {
    owner: "",
    name,
    kind: "oneshot",
    at: null,
    every_ms: null,
    cron: null,
    tz: null,
    max_runs: null,
    start_at: null,
    end_at: null,
    target: { type: "argv", argv: ["executors", "list"] },
    ...over,
  };
}

/** `fresh()` makes a new empty database and returns a function opening connections to it. */
export function scheduleConformance(label: string, fresh: () => Promise<() => Promise<Store>>): void {
  describe(`ScheduleStore conformance: ${label}`, () => {
    const opened: Store[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });
    const open = async (): Promise<{ s: ScheduleStore; connect: () => Promise<ScheduleStore> }> => {
      const connect = async () => {
        const store = await connectTo();
        opened.push(store);
        return schedulesOf(store);
      };
      const connectTo = await fresh();
      return { s: await connect(), connect };
    };
    const claim = (s: ScheduleStore, now: number, scope = "", runner = "r1", limit = 1000, leaseMs = 30_000) => s.claimDue({ scope, runner, leaseMs, limit, now });

    it("versions: 1, then +1 per overwrite; a live name without overwrite is refused; definitions are kept", async () => {
      const { s } = await open();
      const a = await s.add(def("disk", { kind: "interval", every_ms: 5 * MIN }), { overwrite: false, now: T0 });
      expect(a).toMatchObject({ name: "disk", owner: "", version: 1, kind: "interval", every_ms: 300_000, enabled: true, run_count: 0, next_due_at: T0 });
      await expect(s.add(def("disk", { kind: "interval", every_ms: MIN }), { overwrite: false, now: T0 + 1 })).rejects.toThrow(InputError);
      await expect(s.add(def("disk", { kind: "interval", every_ms: MIN }), { overwrite: false, now: T0 + 1 })).rejects.toThrow(/already exists.*--overwrite/);
      await claim(s, T0 + 10);
      expect((await s.get("disk", ""))!.run_count).toBe(1);
      const b = await s.add(def("disk", { kind: "cron", cron: "0 * * * *", tz: "UTC" }), { overwrite: true, now: T0 + 20 });
      // A new version starts its own firing state.
      expect(b).toMatchObject({ version: 2, kind: "cron", run_count: 0, last_fired_at: null, next_due_at: T0 + HOUR });
      const versions = await s.versions("", "disk");
      expect(versions.map((v) => [v.version, v.kind, v.every_ms])).toEqual([
        [1, "interval", 300_000],
        [2, "cron", null],
      ]);
      expect((await s.list({ scope: "" })).map((x) => [x.name, x.version])).toEqual([["disk", 2]]);
    });

    it("delete is a tombstone: the name stops listing and firing, its history stays, and it can be added again", async () => {
      const { s } = await open();
      await s.add(def("gone", { kind: "interval", every_ms: MIN }), { overwrite: false, now: T0 });
      const [run] = await claim(s, T0);
      expect(await s.remove("", "gone", T0 + 1)).toBe(true);
      expect(await s.remove("", "gone", T0 + 2)).toBe(false);
      expect(await s.get("gone", "")).toBeUndefined();
      expect((await s.get("gone", "", { includeDeleted: true }))!.deleted_at).toBe(T0 + 1);
      expect(await s.list({ scope: "" })).toEqual([]);
      expect((await s.list({ scope: "", includeDeleted: true })).length).toBe(1);
      expect(await claim(s, T0 + 10 * MIN)).toEqual([]);
      expect(await s.nextDueAt("")).toBeNull();
      expect((await s.runs({ scope: "", name: "gone" })).map((r) => r.id)).toEqual([run!.run.id]);
      const again = await s.add(def("gone"), { overwrite: false, now: T0 + 3 });
      expect(again.version).toBe(2);
      expect((await s.versions("", "gone")).length).toBe(2);
    });

    it("a oneshot fires once: one running run with a lease, then never again", async () => {
      const { s } = await open();
      await s.add(def("once", { at: T0 + MIN }), { overwrite: false, now: T0 });
      expect(await claim(s, T0 + MIN - 1)).toEqual([]);
      const claimed = await claim(s, T0 + MIN + 5, "", "runner-x", 1000, 5000);
      expect(claimed).toHaveLength(1);
      expect(claimed[0]!.run).toMatchObject({ name: "once", version: 1, status: "running", runner: "runner-x", due_at: T0 + MIN, started_at: T0 + MIN + 5, lease_expires_at: T0 + MIN + 5005 });
      expect(claimed[0]!.schedule.target).toEqual({ type: "argv", argv: ["executors", "list"] });
      expect(await claim(s, T0 + HOUR)).toEqual([]);
      const after = (await s.get("once", ""))!;
      expect(after).toMatchObject({ run_count: 1, last_fired_at: T0 + MIN + 5, next_due_at: null, last_status: "running", last_run_id: claimed[0]!.run.id });
    });

    it("an interval fires when now − last firing ≥ every, first at creation (or start_at)", async () => {
      const { s } = await open();
      await s.add(def("tick", { kind: "interval", every_ms: 5 * MIN }), { overwrite: false, now: T0 });
      await s.add(def("later", { kind: "interval", every_ms: 5 * MIN, start_at: T0 + HOUR }), { overwrite: false, now: T0 });
      expect((await claim(s, T0)).map((c) => c.run.name)).toEqual(["tick"]);
      expect(await claim(s, T0 + 5 * MIN - 1)).toEqual([]);
      expect((await claim(s, T0 + 5 * MIN + 7)).map((c) => c.run.due_at)).toEqual([T0 + 5 * MIN]);
      expect((await s.get("tick", ""))!.next_due_at).toBe(T0 + 10 * MIN + 7);
      // after downtime: one firing, the next one counted from now
      const late = await claim(s, T0 + 50 * MIN);
      expect(late.map((c) => c.run.name)).toEqual(["tick"]);
      expect((await s.get("tick", ""))!.next_due_at).toBe(T0 + 55 * MIN);
      expect((await claim(s, T0 + HOUR)).map((c) => c.run.name)).toEqual(["tick", "later"]);
    });

    it("a cron fires once per claim after downtime (no catch-up storm); its next time is computed from now", async () => {
      const { s } = await open();
      await s.add(def("hourly", { kind: "cron", cron: "0 * * * *", tz: "UTC" }), { overwrite: false, now: T0 + 5 * MIN });
      expect((await s.get("hourly", ""))!.next_due_at).toBe(T0 + HOUR);
      const down = T0 + 72 * HOUR + 10 * MIN; // 72 cron times passed
      const fired = await claim(s, down);
      expect(fired).toHaveLength(1);
      expect(fired[0]!.run.due_at).toBe(T0 + HOUR);
      expect(await claim(s, down + 1)).toEqual([]);
      expect((await s.get("hourly", ""))!.next_due_at).toBe(T0 + 73 * HOUR);
    });

    it("respects max_runs, end_at and enabled", async () => {
      const { s } = await open();
      await s.add(def("twice", { kind: "interval", every_ms: MIN, max_runs: 2 }), { overwrite: false, now: T0 });
      await s.add(def("ends", { kind: "interval", every_ms: MIN, end_at: T0 + 90_000 }), { overwrite: false, now: T0 });
      await s.add(def("off", { kind: "interval", every_ms: MIN }), { overwrite: false, now: T0 });
      await s.setEnabled("", "off", false, T0);
      expect((await claim(s, T0)).map((c) => c.run.name).sort()).toEqual(["ends", "twice"]);
      expect((await claim(s, T0 + MIN)).map((c) => c.run.name).sort()).toEqual(["ends", "twice"]);
      expect((await s.get("twice", ""))!.next_due_at).toBeNull(); // 2 runs done
      expect((await s.get("ends", ""))!.next_due_at).toBeNull(); // T0+2min is past end_at
      expect(await claim(s, T0 + 10 * MIN)).toEqual([]);
      const on = await s.setEnabled("", "off", true, T0 + 10 * MIN);
      expect(on).toMatchObject({ enabled: true, next_due_at: T0 });
      expect((await claim(s, T0 + 10 * MIN)).map((c) => c.run.name)).toEqual(["off"]);
      // a slot found due only after end_at does not fire
      await s.add(def("missed", { kind: "interval", every_ms: MIN, start_at: T0 + 20 * MIN, end_at: T0 + 21 * MIN }), { overwrite: false, now: T0 });
      expect((await claim(s, T0 + 30 * MIN)).map((c) => c.run.name)).toEqual(["off"]);
      expect((await s.get("missed", ""))!).toMatchObject({ run_count: 0, next_due_at: null });
    });

    it("concurrent claims on separate connections never fire a due slot twice", async () => {
      const { s, connect } = await open();
      for (let i = 0; i < 60; i++) await s.add(def(`s${i}`), { overwrite: false, now: T0 });
      const conns = await Promise.all([connect(), connect(), connect(), connect()]);
      const results = await Promise.all(conns.flatMap((c, i) => [claim(c, T0 + 1, "", `r${i}`, 7), claim(c, T0 + 1, "", `r${i}b`, 7), claim(c, T0 + 1, "", `r${i}c`, 100)]));
      const names = results.flat().map((c) => c.run.name);
      expect(names.length).toBe(60);
      expect(new Set(names).size).toBe(60);
      expect(await claim(s, T0 + 2)).toEqual([]);
      expect((await s.runs({ scope: "" })).length).toBe(60);
    });

    it("wakeTimes: the earliest due time and the earliest running lease, in scope", async () => {
      const { s } = await open();
      expect(await s.wakeTimes("")).toEqual({ due: null, leaseExpiry: null });
      await s.add(def("a", { owner: "acme/team_1", kind: "interval", every_ms: HOUR }), { overwrite: false, now: T0 });
      await s.add(def("b", { owner: "acme/team_10", kind: "interval", every_ms: HOUR }), { overwrite: false, now: T0 + MIN });
      await s.add(def("off", { owner: "acme/team_1", at: T0 - HOUR }), { overwrite: false, now: T0 });
      await s.setEnabled("acme/team_1", "off", false, T0);
      expect(await s.wakeTimes("")).toEqual({ due: T0, leaseExpiry: null });
      expect(await s.wakeTimes("acme/team_10")).toEqual({ due: T0 + MIN, leaseExpiry: null });
      await s.claimDue({ scope: "acme/team_1", runner: "r", leaseMs: 5000, limit: 10, now: T0 + 10 });
      expect(await s.wakeTimes("acme/team_1")).toEqual({ due: T0 + 10 + HOUR, leaseExpiry: T0 + 10 + 5000 });
      expect(await s.wakeTimes("acme/team_10")).toEqual({ due: T0 + MIN, leaseExpiry: null });
    });

    it("watchOthers: a change made on another connection ends waitForChange; a wait given an older mark returns at once", async () => {
      const { s, connect } = await open();
      const other = await connect();
      expect(await s.watchOthers()).toBe(true);
      expect(await s.watchOthers()).toBe(true); // idempotent
      // Let whatever the start of the watch reported pass (PostgreSQL: one "look now").
      await new Promise((r) => setTimeout(r, 200));
      const mark = s.changeMark();
      const t = Date.now();
      const waiting = s.waitForChange(20_000, undefined, mark);
      await other.add(def("from-elsewhere"), { overwrite: false });
      await waiting;
      expect(Date.now() - t).toBeLessThan(5000);
      expect(s.changeMark()).not.toBe(mark);
      const t2 = Date.now();
      await s.waitForChange(20_000, undefined, mark);
      expect(Date.now() - t2).toBeLessThan(100);
      // Reads on the other connection, and a claim that finds nothing due, are not changes.
      await new Promise((r) => setTimeout(r, 200));
      const quiet = s.changeMark();
      await other.list({ scope: "" });
      await other.claimDue({ scope: "", runner: "r", leaseMs: 1000, limit: 10, now: T0 - HOUR });
      await s.waitForChange(400, undefined, quiet);
      expect(s.changeMark()).toBe(quiet);
      // A run started elsewhere is a change too (its lease is a wake-up time).
      await other.claimDue({ scope: "", runner: "r", leaseMs: 1000, limit: 10 });
      await s.waitForChange(20_000, undefined, quiet);
      expect(s.changeMark()).not.toBe(quiet);
      expect((await s.wakeTimes("")).leaseExpiry).not.toBeNull();
    });

    it("finishing records the outcome on the run and the schedule; only the holding runner can", async () => {
      const { s } = await open();
      await s.add(def("job", { kind: "interval", every_ms: MIN }), { overwrite: false, now: T0 });
      const [a] = await claim(s, T0, "", "r1");
      expect(await s.finishRun({ runId: a!.run.id, runner: "someone-else", status: "succeeded", now: T0 + 1 })).toBe(false);
      const error = { type: "exit_code", message: "boom" };
      expect(await s.finishRun({ runId: a!.run.id, runner: "r1", status: "failed", error, now: T0 + 2 })).toBe(true);
      expect(await s.finishRun({ runId: a!.run.id, runner: "r1", status: "succeeded", now: T0 + 3 })).toBe(false);
      expect((await s.get("job", ""))!).toMatchObject({ last_status: "failed", error_count: 1, last_error: error });
      const [b] = await claim(s, T0 + MIN, "", "r1");
      await s.finishRun({ runId: b!.run.id, runner: "r1", status: "succeeded", now: T0 + MIN + 1 });
      // the last error stays visible next to the error count
      expect((await s.get("job", ""))!).toMatchObject({ last_status: "succeeded", error_count: 1, run_count: 2, last_error: error });
      const runs = await s.runs({ scope: "", name: "job" });
      expect(runs.map((r) => [r.status, r.error, r.finished_at])).toEqual([
        ["failed", error, T0 + 2],
        ["succeeded", null, T0 + MIN + 1],
      ]);
    });

    it("stores every item of a run in order, errors included", async () => {
      const { s } = await open();
      await s.add(def("out"), { overwrite: false, now: T0 });
      const [c] = await claim(s, T0);
      const items: RunItem[] = [
        { type: "output", value: { ok: 1 } },
        { type: "stderr", text: "careful" },
        { type: "output", value: "plain line" },
        { type: "error", error: { type: "exit_code", message: "bad", details: { exit_code: 3 } } },
      ];
      await s.appendItems(c!.run.id, items.slice(0, 2).map((item, i) => ({ seq: i + 1, at: T0 + i, item })));
      await s.appendItems(c!.run.id, items.slice(2).map((item, i) => ({ seq: i + 3, at: T0 + i + 2, item })));
      const stored = await s.items([c!.run.id]);
      expect(stored.map((i) => [i.run_id, i.seq, i.item])).toEqual(items.map((item, i) => [c!.run.id, i + 1, item]));
    });

    it("a run whose runner stopped heartbeating is abandoned once its lease expired, with an error", async () => {
      const { s } = await open();
      await s.add(def("dies", { kind: "interval", every_ms: HOUR }), { overwrite: false, now: T0 });
      const [c] = await claim(s, T0, "", "dead-runner", 1000, 1000);
      await s.appendItems(c!.run.id, [{ seq: 1, at: T0, item: { type: "output", value: "started" } }]);
      expect(await s.heartbeatRuns("dead-runner", [c!.run.id], 1000, T0 + 900)).toEqual([c!.run.id]);
      expect(await s.heartbeatRuns("other", [c!.run.id], 1000, T0 + 900)).toEqual([]);
      expect(await s.abandonExpired({ scope: "", now: T0 + 1900 })).toEqual([]); // lease now ends at T0+1900
      const gone = await s.abandonExpired({ scope: "", now: T0 + 1901 });
      expect(gone.map((r) => [r.id, r.status])).toEqual([[c!.run.id, "abandoned"]]);
      expect(gone[0]!.error).toMatchObject({ type: "abandoned", message: expect.stringMatching(/dead-runner stopped heartbeating/) });
      const items = await s.items([c!.run.id]);
      expect(items.map((i) => i.item.type)).toEqual(["output", "error"]);
      expect((await s.get("dies", ""))!).toMatchObject({ last_status: "abandoned", error_count: 1, last_error: { type: "abandoned" } });
      // the runner coming back cannot finish it any more
      expect(await s.finishRun({ runId: c!.run.id, runner: "dead-runner", status: "succeeded", now: T0 + 2000 })).toBe(false);
      expect(await s.heartbeatRuns("dead-runner", [c!.run.id], 1000, T0 + 2000)).toEqual([]);
      // a stopping runner gives its runs up at once
      const [d] = await claim(s, T0 + 2 * HOUR, "", "stopping");
      const given = await s.abandonRuns("stopping", [d!.run.id], { type: "abandoned", message: "scheduler stopped" }, T0 + 2 * HOUR + 1);
      expect(given.map((r) => [r.status, r.error?.message])).toEqual([["abandoned", "scheduler stopped"]]);
      expect((await s.get("dies", ""))!.error_count).toBe(2);
    });

    it("scope: a caller sees, fires, abandons and prunes only its own subtree, matched on whole path segments", async () => {
      const { s } = await open();
      const owners = ["acme/team_1", "acme/team_1/sub", "acme/team_10", "acme/teamX1", "acme", "acme/team_1x"];
      for (const owner of owners) await s.add(def("job", { owner, kind: "interval", every_ms: MIN }), { overwrite: false, now: T0 });
      const mine = ["acme/team_1", "acme/team_1/sub"];
      expect((await s.list({ scope: "acme/team_1" })).map((x) => x.owner).sort()).toEqual(mine);
      expect((await s.get("job", "acme/team_1"))!.owner).toBe("acme/team_1");
      expect((await s.get("job", "acme/team_1/sub"))!.owner).toBe("acme/team_1/sub");
      expect(await s.get("job", "acme/team_1/other")).toBeUndefined();
      expect(await s.nextDueAt("acme/team_1/sub")).toBe(T0);
      const fired = await claim(s, T0, "acme/team_1", "r1", 1000, 10);
      expect(fired.map((c) => c.run.owner).sort()).toEqual(mine);
      expect((await s.runs({ scope: "acme/team_1" })).map((r) => r.owner).sort()).toEqual(mine);
      expect((await s.runs({ scope: "acme/team_10" })).length).toBe(0);
      // leases of the caller's runs expire: another scope does not touch them
      expect(await s.abandonExpired({ scope: "acme/team_10", now: T0 + 100 })).toEqual([]);
      expect(await s.abandonExpired({ scope: "acme/teamX1", now: T0 + 100 })).toEqual([]);
      expect((await s.abandonExpired({ scope: "acme/team_1", now: T0 + 100 })).length).toBe(2);
      const rest = await claim(s, T0, "", "r2");
      expect(rest.map((c) => c.run.owner).sort()).toEqual(["acme", "acme/team_10", "acme/team_1x", "acme/teamX1"].sort());
      for (const c of rest) await s.finishRun({ runId: c.run.id, runner: "r2", status: "succeeded", now: T0 + 1 });
      expect(await s.prune({ scope: "acme/team_1", before: T0 + HOUR })).toEqual({ runs: 2, items: 2 });
      expect((await s.runs({ scope: "" })).length).toBe(4);
      // several owners under the caller with one name: the caller's own wins, else ambiguous
      expect((await s.get("job", "acme"))!.owner).toBe("acme");
      await s.remove("acme", "job", T0);
      await expect(s.get("job", "acme")).rejects.toThrow(/several owners.*--as/);
    });

    it("prune deletes finished runs older than the cutoff, and their items; running runs stay", async () => {
      const { s } = await open();
      await s.add(def("p", { kind: "interval", every_ms: MIN }), { overwrite: false, now: T0 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const [c] = await claim(s, T0 + i * MIN);
        ids.push(c!.run.id);
        await s.appendItems(c!.run.id, [{ seq: 1, at: T0, item: { type: "output", value: i } }]);
        if (i < 2) await s.finishRun({ runId: c!.run.id, runner: "r1", status: i === 0 ? "failed" : "succeeded", now: T0 + i * MIN + 10 });
      }
      expect(await s.prune({ scope: "", before: T0 + MIN })).toEqual({ runs: 1, items: 1 });
      expect((await s.runs({ scope: "" })).map((r) => r.id)).toEqual(ids.slice(1));
      expect(await s.prune({ scope: "", before: T0 + 10 * HOUR })).toEqual({ runs: 1, items: 1 });
      expect((await s.runs({ scope: "" })).map((r) => [r.id, r.status])).toEqual([[ids[2], "running"]]);
      expect((await s.items(ids)).map((i) => i.run_id)).toEqual([ids[2]]);
    });

    it("runs() returns the newest `limit` runs, oldest first, and filters by run id", async () => {
      const { s } = await open();
      await s.add(def("many", { kind: "interval", every_ms: MIN }), { overwrite: false, now: T0 });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await claim(s, T0 + i * MIN))[0]!.run.id);
      expect((await s.runs({ scope: "", name: "many", limit: 2 })).map((r) => r.id)).toEqual(ids.slice(3));
      expect((await s.runs({ scope: "", runId: ids[1] })).map((r) => r.id)).toEqual([ids[1]]);
    });
  });
}
