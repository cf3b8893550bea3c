// Runs trees inside the server process: `tasks.execute` awaits one tree, `stream: true` starts it
// in the background, and the server worker claims any ready task (trees stored by `tasks.create`
// or by other processes). Every runner is tracked so that shutdown stops them all.
import type { RuntimeSettings } from "../core/executor.js";
import type { ExecutorRegistry } from "../core/registry.js";
import { Runner } from "../engine/runner.js";
import type { Store } from "../store/store.js";

export interface TreeRunnerOptions {
  store: Store;
  registry: ExecutorRegistry;
  settings: RuntimeSettings;
  /** Tasks at once per tree run (default 8). */
  concurrency?: number;
  leaseMs?: number;
}

export class TreeRunner {
  private readonly running = new Set<{ runner: Runner; done: Promise<unknown> }>();
  private worker?: { runner: Runner; done: Promise<unknown> };
  private closed = false;

  constructor(private readonly opts: TreeRunnerOptions) {}

  private make(treeId: string | undefined, concurrency?: number): Runner {
    return new Runner({
      store: this.opts.store,
      registry: this.opts.registry,
      settings: this.opts.settings,
      treeId,
      concurrency: concurrency ?? this.opts.concurrency,
      leaseMs: this.opts.leaseMs,
    });
  }

  /** Runs a tree until it is terminal (or the signal aborts: the runner stops, the tree goes on elsewhere). */
  async run(treeId: string, opts: { concurrency?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.closed) throw new Error("server is shutting down");
    const runner = this.make(treeId, opts.concurrency);
    const onAbort = () => runner.stop();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const entry = { runner, done: runner.run() };
    this.running.add(entry);
    try {
      await entry.done;
    } finally {
      this.running.delete(entry);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Starts a tree in the background; errors are reported to `onError` (the tree stays in the store). */
  start(treeId: string, opts: { concurrency?: number; onError?: (err: unknown) => void } = {}): void {
    void this.run(treeId, opts).catch((err) => opts.onError?.(err));
  }

  /** The server worker: claims ready tasks of any tree until close(). */
  startWorker(concurrency: number): void {
    if (this.worker || this.closed) return;
    const runner = this.make(undefined, concurrency);
    this.worker = { runner, done: runner.run().catch(() => undefined) };
  }

  get active(): number {
    return this.running.size + (this.worker ? 1 : 0);
  }

  /** Stops claiming; in-flight tasks get `graceMs`, then are handed back to `ready`. */
  async close(graceMs = 0): Promise<void> {
    this.closed = true;
    const all = [...this.running, ...(this.worker ? [this.worker] : [])];
    for (const e of all) e.runner.stop({ graceMs });
    await Promise.allSettled(all.map((e) => e.done));
  }
}
