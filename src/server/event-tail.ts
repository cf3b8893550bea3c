// Reads a tree's (or a task's) events from the store in seq order, from a cursor, so a stream
// can resume from any seq (SSE Last-Event-ID) and nothing is kept in memory but the cursor.
//
// PostgreSQL hands out `seq` at insert, not at commit, so seq 11 can become visible before seq 10
// (see postgres-store.ts). A tail that advanced past 11 would never see 10. So on PostgreSQL a
// row is only delivered once every lower seq is final: each read also returns its snapshot; when
// no transaction was in progress, every visible row is final; otherwise the read leaves a mark
// "everything up to seq M is final once the transactions in progress now (xids ≤ X) have ended",
// and a later read whose snapshot xmin is past X turns the mark into a delivery bound. Any
// transaction not yet in progress at a read gets its seqs later, i.e. above M.
import type { GroveEvent } from "../core/types.js";
import type { Store } from "../store/store.js";

export interface TailFilter {
  treeId?: string;
  taskId?: string;
}

interface Mark {
  seq: number;
  need: bigint;
}

interface PgPool {
  query(sql: string, params: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

const PG_READ = (column: "tree_id" | "task_id" | null) => `
SELECT seq, tree_id, task_id, type, data, at,
       pg_snapshot_xmin(pg_current_snapshot())::text AS snap_xmin,
       (SELECT max(x::text::numeric) FROM pg_snapshot_xip(pg_current_snapshot()) AS x)::text AS snap_xip_max
FROM events WHERE ${column ? `${column} = $1 AND seq > $2` : "seq > $1"} ORDER BY seq LIMIT ${column ? "$3" : "$2"}`;

export class EventTail {
  private finalUpTo = 0;
  private marks: Mark[] = [];

  constructor(
    private readonly store: Store,
    private readonly filter: TailFilter,
    /** The last seq the reader has (0: from the start). */
    public cursor = 0,
  ) {}

  /** Whether rows were read but held back (PostgreSQL only): the reader should read again soon. */
  holding = false;

  /** The next events after the cursor that are safe to deliver; advances the cursor past them. */
  async next(limit = 500): Promise<GroveEvent[]> {
    const events = this.store.kind === "postgres" ? await this.nextPg(limit) : await this.store.events({ ...this.filter, afterSeq: this.cursor, limit });
    if (events.length > 0) this.cursor = events[events.length - 1]!.seq;
    return events;
  }

  private async nextPg(limit: number): Promise<GroveEvent[]> {
    const pool = (this.store as unknown as { pool: PgPool }).pool;
    const column = this.filter.taskId ? "task_id" : this.filter.treeId ? "tree_id" : null;
    const params = column ? [this.filter.taskId ?? this.filter.treeId, this.cursor, limit] : [this.cursor, limit];
    const { rows } = await pool.query(PG_READ(column), params);
    this.holding = false;
    if (rows.length === 0) return [];
    const xmin = BigInt(String(rows[0]!.snap_xmin));
    const xipMax = rows[0]!.snap_xip_max === null ? null : BigInt(String(rows[0]!.snap_xip_max));
    this.marks = this.marks.filter((m) => {
      if (m.need > xmin) return true;
      this.finalUpTo = Math.max(this.finalUpTo, m.seq);
      return false;
    });
    const maxVisible = Number(rows[rows.length - 1]!.seq);
    if (xipMax === null) this.finalUpTo = Math.max(this.finalUpTo, maxVisible);
    else if (maxVisible > this.finalUpTo && !this.marks.some((m) => m.seq >= maxVisible && m.need <= xipMax + 1n)) {
      this.marks.push({ seq: maxVisible, need: xipMax + 1n });
      // Marks only ever matter up to the newest; a reader far behind keeps a handful at most.
      if (this.marks.length > 64) this.marks.splice(0, this.marks.length - 64);
    }
    const out: GroveEvent[] = [];
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq > this.finalUpTo) {
        this.holding = true;
        break;
      }
      out.push({ seq, tree_id: String(r.tree_id), task_id: r.task_id === null ? null : String(r.task_id), type: r.type as GroveEvent["type"], data: r.data as Record<string, unknown>, at: Number(r.at) });
    }
    return out;
  }
}
