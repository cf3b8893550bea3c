// GET /metrics in the Prometheus text format. Counts come from the database at scrape time (so
// they cover every process sharing it); claim latency is observed in this process from its own
// event bus (ready → started), in a fixed-bucket histogram: constant memory however long it runs.
import type { GroveEvent } from "../core/types.js";
import { TASK_STATUSES } from "../core/types.js";
import type { Store } from "../store/store.js";
import type { ServerDb } from "./db.js";

const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Ready times remembered for the latency histogram; beyond this the oldest are dropped. */
const MAX_TRACKED = 10_000;

export class Metrics {
  private readonly readyAt = new Map<string, number>();
  private readonly counts = new Array<number>(BUCKETS_S.length).fill(0);
  private sum = 0;
  private total = 0;
  private readonly requests = new Map<string, number>();
  private off?: () => void;

  constructor(
    private readonly store: Store,
    private readonly db: ServerDb,
  ) {}

  start(): void {
    this.off ??= this.store.bus.on((e) => this.onEvent(e));
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  /** Counts answered requests by route and status class. */
  request(route: string, status: number): void {
    const key = `${route}|${Math.floor(status / 100)}xx`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  private onEvent(e: GroveEvent): void {
    if (!e.task_id) return;
    if (e.type === "task.ready" || (e.type === "task.created" && e.data.status === "ready")) {
      if (this.readyAt.size >= MAX_TRACKED) this.readyAt.delete(this.readyAt.keys().next().value!);
      this.readyAt.set(e.task_id, e.at);
    } else if (e.type === "task.started") {
      const at = this.readyAt.get(e.task_id);
      if (at === undefined) return;
      this.readyAt.delete(e.task_id);
      const s = Math.max(0, e.at - at) / 1000;
      this.sum += s;
      this.total++;
      for (let i = 0; i < BUCKETS_S.length; i++) if (s <= BUCKETS_S[i]!) this.counts[i]!++;
    }
  }

  async render(): Promise<string> {
    const now = Date.now();
    const byStatus = await this.db.all("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status");
    const depth = await this.db.all("SELECT COUNT(*) AS n FROM tasks WHERE status = 'ready' AND run_after <= $1", [now]);
    const lines: string[] = [];
    lines.push("# HELP grove_tasks Tasks in the store by status.", "# TYPE grove_tasks gauge");
    const counted = new Map(byStatus.map((r) => [String(r.status), Number(r.n)]));
    for (const s of TASK_STATUSES) lines.push(`grove_tasks{status="${s}"} ${counted.get(s) ?? 0}`);
    lines.push("# HELP grove_queue_depth Ready tasks whose run_after has passed (claimable now).", "# TYPE grove_queue_depth gauge");
    lines.push(`grove_queue_depth ${Number(depth[0]?.n ?? 0)}`);
    lines.push("# HELP grove_claim_latency_seconds Time from a task becoming ready to its start, seen by this process.", "# TYPE grove_claim_latency_seconds histogram");
    BUCKETS_S.forEach((b, i) => lines.push(`grove_claim_latency_seconds_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`grove_claim_latency_seconds_bucket{le="+Inf"} ${this.total}`);
    lines.push(`grove_claim_latency_seconds_sum ${this.sum}`, `grove_claim_latency_seconds_count ${this.total}`);
    lines.push("# HELP grove_http_requests_total Answered HTTP requests by route and status class.", "# TYPE grove_http_requests_total counter");
    for (const [key, n] of this.requests) {
      const [route, cls] = key.split("|");
      lines.push(`grove_http_requests_total{route="${route}",code="${cls}"} ${n}`);
    }
    return lines.join("\n") + "\n";
  }
}
