import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * The thread's code: its own connection copies WAL frames back into the main file while the
 * writer keeps committing. Given as source (CommonJS, better-sqlite3 resolved by the parent) so
 * that it runs the same from dist/ and from src/ under the test runner.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
// Never wait for a lock: a busy database is checkpointed at the next tick.
db.pragma("busy_timeout = 0");
const timer = setInterval(() => {
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
}, workerData.intervalMs);
parentPort.on("message", (m) => {
  if (m !== "close") return;
  clearInterval(timer);
  db.close();
  parentPort.postMessage("closed");
});
`;

/**
 * Moves WAL checkpoints off the writing thread while a runner drains work. SQLite normally
 * checkpoints inside COMMIT once the WAL holds `wal_autocheckpoint` pages (1,000): the committing
 * thread then copies pages into the main file and syncs it, about a third of COMMIT's time in
 * drain-sqlite. A worker thread with its own connection runs PASSIVE checkpoints instead (they
 * never block the writer), and the writer's autocheckpoint is raised to a backstop that finishes
 * what the background pass left and lets the WAL restart from its beginning.
 */
export class BackgroundCheckpointer {
  /** Pages of WAL (4 KiB each) before the writer checkpoints itself: ~40 MiB. */
  static readonly BACKSTOP_PAGES = 10_000;
  private readonly worker: Worker;
  private closed = false;

  constructor(path: string, intervalMs = 100) {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } });
    // Never keeps the process alive; a failing worker only means the writer checkpoints itself.
    this.worker.unref();
    this.worker.on("error", () => undefined);
  }

  /** Stops the thread and closes its connection (before the writer's close removes the WAL). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closed = new Promise<void>((resolve) => {
      const done = () => resolve();
      this.worker.once("message", done);
      this.worker.once("exit", done);
      this.worker.once("error", done);
      setTimeout(done, 1_000).unref();
    });
    this.worker.postMessage("close");
    await closed;
    await this.worker.terminate();
  }
}
