// Outbound event webhooks: every stored event whose type matches a webhook's `events` patterns is
// POSTed to its URL, signed like inbound hooks (X-Grove-Signature over timestamp + "." + body),
// in seq order, retried with exponential backoff. Events are read from the events table from a
// cursor (the newest seq at start), so a slow endpoint holds back only its own cursor, never
// memory. URLs are checked against private addresses (net-guard) unless allowed.
import type { GroveEvent } from "../../core/types.js";
import { assertPublicUrl } from "../../executors/net-guard.js";
import type { Store } from "../../store/store.js";
import { serverDb } from "../db.js";
import { EventTail } from "../event-tail.js";
import { sign, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./signature.js";

export interface EventWebhookConfig {
  url: string;
  secret: string;
  /** Event types or prefixes with `*`: `["tree.*", "task.failed"]`; empty or absent = every event. */
  events?: string[];
  /** Attempts per event (default 6). */
  maxAttempts?: number;
  /** First retry delay (default 1000 ms), doubled each time, at most 60 s. */
  baseDelayMs?: number;
  timeoutMs?: number;
}

export interface DeliveryReport {
  url: string;
  seq: number;
  type: string;
  attempts: number;
  ok: boolean;
  status?: number;
  error?: string;
}

export function matchesEvent(patterns: string[] | undefined, type: string): boolean {
  if (!patterns || patterns.length === 0) return true;
  return patterns.some((p) => (p.endsWith("*") ? type.startsWith(p.slice(0, -1)) : p === type));
}

export class EventWebhooks {
  private readonly ac = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly store: Store,
    private readonly hooks: EventWebhookConfig[],
    private readonly opts: { allowPrivateNetwork: boolean; pollMs?: number; onDelivery?: (r: DeliveryReport) => void },
  ) {}

  async start(): Promise<void> {
    const latest = await this.maxSeq();
    this.loops = this.hooks.map((h) => this.loop(h, latest));
  }

  private async maxSeq(): Promise<number> {
    const rows = await serverDb(this.store).all("SELECT MAX(seq) AS m FROM events");
    return Number(rows[0]?.m ?? 0);
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await Promise.allSettled(this.loops);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.ac.signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      this.ac.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private async loop(hook: EventWebhookConfig, from: number): Promise<void> {
    const tail = new EventTail(this.store, {}, from);
    while (!this.ac.signal.aborted) {
      let events: GroveEvent[];
      try {
        events = await tail.next(100);
      } catch {
        await this.sleep(1000);
        continue;
      }
      for (const e of events) {
        if (this.ac.signal.aborted) return;
        if (!matchesEvent(hook.events, e.type)) continue;
        // Not `onDelivery?.(await deliver())`: an optional call skips its arguments when absent.
        const report = await this.deliver(hook, e);
        this.opts.onDelivery?.(report);
      }
      if (events.length === 0) await this.sleep(tail.holding ? 20 : (this.opts.pollMs ?? 250));
    }
  }

  private async deliver(hook: EventWebhookConfig, e: GroveEvent): Promise<DeliveryReport> {
    const body = JSON.stringify({ ...e, at: new Date(e.at).toISOString() });
    const max = hook.maxAttempts ?? 6;
    let last: DeliveryReport = { url: hook.url, seq: e.seq, type: e.type, attempts: 0, ok: false };
    for (let attempt = 1; attempt <= max && !this.ac.signal.aborted; attempt++) {
      last = { ...last, attempts: attempt };
      try {
        await assertPublicUrl(new URL(hook.url), { allowPrivateNetwork: this.opts.allowPrivateNetwork }, this.ac.signal);
        const ts = Math.floor(Date.now() / 1000);
        const res = await fetch(hook.url, {
          method: "POST",
          redirect: "manual", // a redirect could point at a private address the guard never saw
          headers: { "content-type": "application/json", [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: sign(hook.secret, ts, body), "x-grove-event": e.type, "x-grove-delivery": String(e.seq) },
          body,
          signal: AbortSignal.any([this.ac.signal, AbortSignal.timeout(hook.timeoutMs ?? 10_000)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        last = { ...last, status: res.status, ok: res.ok, error: res.ok ? undefined : `HTTP ${res.status}` };
        if (res.ok) return last;
        // A 4xx other than timeout / rate limit will not get better by retrying.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return last;
      } catch (err) {
        last = { ...last, ok: false, error: (err as Error).message };
        if ((err as Error).name === "TaskFailure") return last; // refused by the address guard
      }
      if (attempt < max) await this.sleep(Math.min(60_000, (hook.baseDelayMs ?? 1000) * 2 ** (attempt - 1)));
    }
    return last;
  }
}
