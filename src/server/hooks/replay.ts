// Remembers the signatures accepted within the replay window, so that a captured webhook request
// cannot be sent again even inside its 5 minutes. Entries expire with the window; the map is
// capped so a flood cannot grow it without bound (beyond the cap the oldest are forgotten, and
// the timestamp check still bounds any replay to the window).
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly max = 100_000,
  ) {}

  /** True the first time a signature is seen within the window. */
  firstUse(signature: string, now = Date.now()): boolean {
    for (const [sig, exp] of this.seen) {
      if (exp > now && this.seen.size < this.max) break;
      this.seen.delete(sig);
    }
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, now + 2 * this.windowMs);
    return true;
  }
}
