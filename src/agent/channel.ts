// A one-consumer async queue: the agent loop pushes events from wherever they arise (a command's
// output callback included), the stream's reader pulls them in order.
export class Channel<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private failed: { error: unknown } | null = null;
  private waitingReject: ((e: unknown) => void) | null = null;
  private done = false;

  push(item: T): void {
    if (this.done) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.waitingReject = null;
      w({ value: item, done: false });
    } else this.items.push(item);
  }

  close(): void {
    this.done = true;
    if (this.waiting && this.items.length === 0) {
      const w = this.waiting;
      this.waiting = this.waitingReject = null;
      w({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    this.failed = { error };
    this.done = true;
    if (this.waitingReject) {
      const r = this.waitingReject;
      this.waiting = this.waitingReject = null;
      r(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.failed) return Promise.reject(this.failed.error);
        if (this.done) return Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          this.waiting = resolve;
          this.waitingReject = reject;
        });
      },
      return: () => {
        this.done = true;
        this.items = [];
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
