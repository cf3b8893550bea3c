// The scheduler daemon (DESIGN §7, `grove scheduler`): sleeps until the next due time of its
// scope, claims what is due (the same atomic claim as `grove schedules run`, so several
// schedulers on one store never fire a slot twice), and runs it. It re-checks at least every
// `recheckMs` (1 s) so that schedules added by other processes are seen, and marks runs of dead
// runners abandoned once their lease expired.
import type { ScheduleRun } from "./model.js";
import { ScheduleFirer, type FirerOptions } from "./fire.js";

export interface SchedulerOptions extends FirerOptions {
  /** Longest sleep between two looks at the store (default 1000 ms). */
  recheckMs?: number;
  /** On stop, how long runs in flight may finish before they are abandoned (default 10 s). */
  graceMs?: number;
  onAbandoned?(runs: ScheduleRun[]): void;
  /** Errors of the loop itself (the store is unreachable…); the loop goes on. */
  onError?(err: unknown): void;
}

export class Scheduler {
  readonly firer: ScheduleFirer;
  private stopping = false;
  private sleeping: AbortController | null = null;

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
    const recheck = this.opts.recheckMs ?? 1000;
    const { schedules, scope } = this.opts;
    while (!this.stopping) {
      let wait = recheck;
      try {
        const abandoned = await this.firer.abandonExpired();
        if (abandoned.length > 0) this.opts.onAbandoned?.(abandoned);
        const free = this.firer.free;
        if (free > 0) {
          const claimed = await this.firer.claim(free);
          // As many as we had room for: more may be due right away.
          if (claimed.length === free && this.firer.free > 0) continue;
        }
        if (this.firer.free > 0) {
          const next = await schedules.nextDueAt(scope);
          // A due time already passed that the claim left alone (another scheduler took it a
          // moment ago): look again shortly rather than spinning.
          if (next !== null) wait = Math.min(recheck, next > Date.now() ? next - Date.now() : 20);
        }
      } catch (err) {
        this.opts.onError?.(err);
      }
      if (this.stopping) break;
      await this.sleep(wait);
    }
    await this.drain();
  }

  private async sleep(ms: number): Promise<void> {
    if (ms <= 0) return;
    const ctl = new AbortController();
    this.sleeping = ctl;
    try {
      await this.opts.schedules.waitForChange(ms, ctl.signal);
    } finally {
      this.sleeping = null;
    }
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
