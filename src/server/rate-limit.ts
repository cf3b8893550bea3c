// Per-credential token buckets: `burst` requests at once, refilled at `perSecond`. Buckets of idle
// credentials are dropped once full again, so memory follows the number of active callers, and
// a hard cap keeps a flood of distinct (invalid) identities from growing it.
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Most buckets kept (default 10,000). */
  maxBuckets?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(private readonly opts: RateLimitOptions) {}

  /** Takes one token for `id`: 0 when allowed, else the seconds to wait before retrying. */
  take(id: string, now = Date.now()): number {
    const { perSecond, burst } = this.opts;
    if (perSecond <= 0) return 0;
    let b = this.buckets.get(id);
    if (!b) {
      this.sweep(now);
      b = { tokens: burst, at: now };
      this.buckets.set(id, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
  }

  private sweep(now: number): void {
    const max = this.opts.maxBuckets ?? 10_000;
    if (this.buckets.size < max && now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    const fullAfterMs = (this.opts.burst / this.opts.perSecond) * 1000;
    for (const [id, b] of this.buckets) if (now - b.at >= fullAfterMs) this.buckets.delete(id);
    // Still at the cap: drop the oldest (Map keeps insertion order).
    while (this.buckets.size >= max) this.buckets.delete(this.buckets.keys().next().value!);
  }

  get size(): number {
    return this.buckets.size;
  }
}
