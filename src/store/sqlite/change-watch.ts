// Hearing commits that other processes make to a SQLite file, without polling the database.
//
// SQLite has no cross-process notification. A commit in WAL mode, though, is a write() to the
// `-wal` file (or to the database file itself in rollback mode), and Linux reports that through
// inotify, which fs.watch on the directory uses. An event alone is not proof of a commit: our
// own connection writes too, and the writer may be mid-transaction. So each burst of events is
// followed by `PRAGMA data_version` on our connection, which moves only when ANOTHER connection
// committed; that is when onChange() is called. Checks run shortly after the events (the
// wal-index is updated right after the commit frame is written) and once more later in case the
// writer was still between the two.
import type Database from "better-sqlite3";
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";

const FIRST_CHECK_MS = 5;
const SECOND_CHECK_MS = 60;

export class SqliteChangeWatch {
  private watcher: FSWatcher | undefined;
  private failed = false;
  private version = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly onChange: () => void,
  ) {}

  /**
   * Starts watching (idempotent). True while other processes' commits are heard: always for an
   * in-memory database (no other process can reach it); false when the watch could not be set up
   * or broke.
   */
  start(): boolean {
    if (this.db.memory) return true;
    if (this.watcher) return true;
    if (this.failed || !this.db.open) return false;
    const file = resolve(this.db.name);
    const prefix = basename(file);
    try {
      this.version = this.dataVersion();
      this.watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
        if (name === null || String(name).startsWith(prefix)) this.burst();
      });
      this.watcher.on("error", () => this.fail());
      return true;
    } catch {
      this.fail();
      return false;
    }
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.watcher?.close();
    this.watcher = undefined;
  }

  private fail(): void {
    this.failed = true;
    this.close();
  }

  private dataVersion(): number {
    return this.db.pragma("data_version", { simple: true }) as number;
  }

  /** Events come in bursts (one per write): one pair of checks per burst. */
  private burst(): void {
    if (this.timers.length > 0) return;
    const first = setTimeout(() => this.check(), FIRST_CHECK_MS);
    const second = setTimeout(() => {
      this.timers = [];
      this.check();
    }, SECOND_CHECK_MS);
    first.unref();
    second.unref();
    this.timers = [first, second];
  }

  private check(): void {
    if (!this.db.open) return;
    let v: number;
    try {
      v = this.dataVersion();
    } catch {
      return;
    }
    if (v === this.version) return;
    this.version = v;
    this.onChange();
  }
}
