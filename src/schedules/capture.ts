// Turning what a fired target writes into run items (stored, and streamed with --stream-all).
import type { RunItem, StoredItem } from "./model.js";
import type { ScheduleStore } from "../store/schedule-store.js";

function parse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * Splits a dispatched command's stdout into items: a line of JSON (`--json` lines) is one item,
 * pretty-printed JSON spanning lines (`tasks list --json`) is one item, any other line is a text
 * item. stderr lines are items too.
 */
export class OutputCapture {
  private out = "";
  private err = "";
  private json: string[] = [];
  /** The last non-empty stderr line (a failing grove command's one-line error). */
  lastError: string | null = null;

  constructor(private readonly emit: (item: RunItem) => void) {}

  stdout(chunk: string): void {
    this.out += chunk;
    let i: number;
    while ((i = this.out.indexOf("\n")) >= 0) {
      const line = this.out.slice(0, i);
      this.out = this.out.slice(i + 1);
      this.line(line);
    }
  }

  stderr(chunk: string): void {
    this.err += chunk;
    let i: number;
    while ((i = this.err.indexOf("\n")) >= 0) {
      const line = this.err.slice(0, i);
      this.err = this.err.slice(i + 1);
      this.errLine(line);
    }
  }

  /** Flushes partial lines and unfinished JSON (as text lines). */
  end(): void {
    if (this.out !== "") this.line(this.out);
    this.out = "";
    for (const l of this.json) this.emit({ type: "output", value: l });
    this.json = [];
    if (this.err !== "") this.errLine(this.err);
    this.err = "";
  }

  private line(line: string): void {
    if (this.json.length > 0) {
      this.json.push(line);
      // Pretty-printed JSON ends with a closing bracket at column 0.
      if (/^[}\]]/.test(line)) {
        const v = parse(this.json.join("\n"));
        if (v.ok) {
          this.json = [];
          this.emit({ type: "output", value: v.value });
        }
      }
      return;
    }
    const t = line.trim();
    if (t === "") return;
    // The first line of pretty-printed JSON (JSON.stringify(v, null, 2)) is a lone bracket.
    if (line === "{" || line === "[") {
      this.json.push(line);
      return;
    }
    if (t.startsWith("{") || t.startsWith("[") || t.startsWith('"')) {
      const v = parse(t);
      if (v.ok) return this.emit({ type: "output", value: v.value });
    }
    this.emit({ type: "output", value: line });
  }

  private errLine(line: string): void {
    if (line.trim() === "") return;
    this.lastError = line.trim();
    this.emit({ type: "stderr", text: line });
  }
}

/**
 * A run's items, appended to the store in order as they are produced: each push is stored by the
 * next write (batched while a write is in flight), independent of who reads the output.
 * With `lingerMs`, a write waits that long for more items first (one write instead of one per
 * event); close() writes at once.
 */
export class ItemWriter {
  private seq = 0;
  private pending: Omit<StoredItem, "run_id">[] = [];
  private flushing: Promise<void> | undefined;
  private failure: unknown;
  private lingering: { timer: NodeJS.Timeout; go: () => void } | undefined;

  constructor(
    private readonly schedules: ScheduleStore,
    readonly runId: string,
    private readonly onItem?: (item: StoredItem) => void,
    private readonly lingerMs = 0,
  ) {}

  get count(): number {
    return this.seq;
  }

  push(item: RunItem): void {
    const stored = { seq: ++this.seq, at: Date.now(), item };
    this.pending.push(stored);
    this.flushing ??= this.lingerMs > 0 ? this.linger().then(() => this.flush()) : this.flush();
    try {
      this.onItem?.({ run_id: this.runId, ...stored });
    } catch {
      // a consumer's failure (closed stdout…) never stops the run
    }
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.slice(0, 500);
        await this.schedules.appendItems(this.runId, batch);
        this.pending.splice(0, batch.length);
      }
    } catch (err) {
      this.failure = err;
    } finally {
      this.flushing = undefined;
    }
  }

  private linger(): Promise<void> {
    return new Promise<void>((resolve) => {
      const go = () => {
        clearTimeout(timer);
        this.lingering = undefined;
        resolve();
      };
      const timer = setTimeout(go, this.lingerMs);
      this.lingering = { timer, go };
    });
  }

  /** Waits until every item is stored; throws when they could not be. */
  async close(): Promise<void> {
    this.lingering?.go();
    while (this.flushing) await this.flushing;
    if (this.pending.length > 0) {
      this.failure = undefined;
      await this.flush();
    }
    if (this.failure) throw this.failure;
  }
}
