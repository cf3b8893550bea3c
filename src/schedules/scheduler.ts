// The scheduler daemon (DESIGN §7, `grove scheduler`): claims what is due (the same atomic claim
// as `grove schedules run`, so several schedulers on one store never fire a slot twice), runs it,
// and sleeps until the next thing it must do — no polling:
// - the earliest due time of its scope;
// - the earliest lease expiry of a running run in scope (its runner may have died; the run is
//   then marked abandoned, never silently lost);
// - a change made by any process (a schedule added, enabled, fired elsewhere…), heard through
//   ScheduleStore.watchOthers(): inotify + data_version on SQLite, LISTEN/NOTIFY on PostgreSQL;
// - a run of its own finishing (a slot is free again).
// A long backstop (60 s) guards against a change that was never heard. When the store cannot
// hear other processes (the watch failed), it falls back to looking every second.
import type { ScheduleRun } from "./model.js";
import { ScheduleFirer, type FirerOptions } from "./fire.js";

/** Longest sleep while other processes' changes are heard. */
export const DEFAULT_BACKSTOP_MS = 60_000;
/** Longest sleep while they are not. */
export const DEFAULT_POLL_MS = 1000;
/** Shortest gap between two looks, so that a busy store's stream of changes cannot make it spin. */
export const DEFAULT_MIN_GAP_MS = 20;

export interface SchedulerOptions extends FirerOptions {
  backstopMs?: number;
  pollMs?: number;
  minGapMs?: number;
  /** On stop, how long runs in flight may finish before they are abandoned (default 10 s). */
  graceMs?: number;
  onAbandoned?(runs: ScheduleRun[]): void;
  /** Errors of the loop itself (the store is unreachable…); the loop goes on. */
  onError?(err: unknown): void;
  /** Each look at the store, with how long it then sleeps at most (tests, diagnostics). */
  onLook?(look: { sleepMs: number; watching: boolean }): void;
}

export class Scheduler {
  readonly firer: ScheduleFirer;
  private stopping = false;
  private sleeping: AbortController | null = null;
  private warnedBlind = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.firer = new ScheduleFirer(opts);
    this.firer.onSettled(() => this.sleeping?.abort());
  }

  get runner(): string {
    return this.firer.runner;
  }

  /** Asks the loop to end: no more claims; runs in flight get the grace period. */
  stop(): void {
    this.stopping = true;
    this.sleeping?.abort();
  }

  /** Runs until stop(); then waits for runs in flight (up to graceMs) and abandons the rest. */
  async run(): Promise<void> {
    const { schedules, scope } = this.opts;
    const minGap = this.opts.minGapMs ?? DEFAULT_MIN_GAP_MS;
    while (!this.stopping) {
      // Taken before the look: a change heard during it ends the sleep below at once.
      const mark = schedules.changeMark();
      const lookedAt = Date.now();
      let watching = false;
      let wait = this.opts.pollMs ?? DEFAULT_POLL_MS;
      try {
        watching = await schedules.watchOthers();
        if (watching) wait = this.opts.backstopMs ?? DEFAULT_BACKSTOP_MS;
        else if (!this.warnedBlind) {
          this.warnedBlind = true;
          this.opts.onWarning?.(`cannot hear other processes' changes to the store; looking at it every ${wait} ms instead`);
        }
        const abandoned = await this.firer.abandonExpired();
        if (abandoned.length > 0) this.opts.onAbandoned?.(abandoned);
        const free = this.firer.free;
        if (free > 0) {
          const claimed = await this.firer.claim(free);
          // As many as we had room for: more may be due right away.
          if (claimed.length === free && this.firer.free > 0) continue;
        }
        const { due, leaseExpiry } = await schedules.wakeTimes(scope);
        const now = Date.now();
        // A due time already passed that the claim left alone (another scheduler took it a moment
        // ago): look again shortly rather than spinning. With no free slot, a run ending wakes us.
        if (due !== null && this.firer.free > 0) wait = Math.min(wait, due > now ? due - now : minGap);
        // A lease ends strictly after its expiry time (abandonExpired takes `< now`).
        if (leaseExpiry !== null) wait = Math.min(wait, Math.max(leaseExpiry + 1 - now, minGap));
      } catch (err) {
        this.opts.onError?.(err);
      }
      if (this.stopping) break;
      this.opts.onLook?.({ sleepMs: wait, watching });
      const woke = await this.sleep(wait, mark);
      // Only a change made elsewhere is throttled: due times and our own runs ending are not.
      const gap = lookedAt + minGap - Date.now();
      if (woke === "change" && gap > 0 && !this.stopping) await this.pause(gap);
    }
    await this.drain();
  }

  /** Sleeps up to `ms`; says what ended the sleep. */
  private async sleep(ms: number, since?: number): Promise<"time" | "change" | "ours"> {
    if (ms <= 0) return "time";
    const ctl = new AbortController();
    this.sleeping = ctl;
    const start = Date.now();
    try {
      await this.opts.schedules.waitForChange(ms, ctl.signal, since);
    } finally {
      this.sleeping = null;
    }
    if (ctl.signal.aborted) return "ours";
    return Date.now() - start >= ms ? "time" : "change";
  }

  /** Waits `ms` whatever changes (only stop() or a run of ours ending cuts it short). */
  private async pause(ms: number): Promise<void> {
    const ctl = new AbortController();
    this.sleeping = ctl;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      ctl.signal.addEventListener("abort", done, { once: true });
    });
    this.sleeping = null;
  }

  private async drain(): Promise<void> {
    const grace = this.opts.graceMs ?? 10_000;
    if (this.firer.busy > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.firer.wait(), new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
      clearTimeout(timer);
    }
    if (this.firer.busy > 0) {
      const runs = await this.firer.abandonAll({ type: "abandoned", message: `scheduler ${this.runner} stopped before the run finished` });
      if (runs.length > 0) this.opts.onAbandoned?.(runs);
    }
    this.firer.close();
  }
}
