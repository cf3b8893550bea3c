// A change counter with waiters: how both schedule stores wake a sleeping scheduler. The counter
// (a "mark") closes the race between looking at the store and going to sleep: a change heard in
// between moves the mark, and a wait given the old mark returns at once.

export class ChangeSignal {
  private seq = 0;
  private readonly waiters = new Set<() => void>();

  /** The current mark; it moves on every notify(). */
  get mark(): number {
    return this.seq;
  }

  /** A change happened: wake every waiter. */
  notify(): void {
    this.seq++;
    for (const w of [...this.waiters]) w();
  }

  /**
   * Resolves after `timeoutMs`, on the next notify(), when `signal` aborts, or at once when a
   * change was heard since `since`.
   */
  wait(timeoutMs: number, signal?: AbortSignal, since?: number): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || (since !== undefined && since !== this.seq)) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
