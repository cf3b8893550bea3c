import { io, type CommandIO } from "./io.js";
import type { TreeResult } from "../client/result.js";
import type { GroveEvent, Task, TaskError, TaskStatus } from "../core/types.js";

interface Row {
  id: string;
  name: string;
  depth: number;
  status: TaskStatus;
  startedAt: number | null;
  finishedAt: number | null;
  progress: number | null;
  lastLog: string | null;
  error: TaskError | null;
  attempts: number;
}

const SYMBOL: Record<TaskStatus, string> = {
  pending: "·",
  ready: "○",
  running: "▶",
  waiting_approval: "?",
  completed: "✔",
  failed: "✘",
  cancelled: "⊘",
  skipped: "↷",
};

const COLOR: Partial<Record<TaskStatus, string>> = { running: "36", completed: "32", failed: "31", cancelled: "33", skipped: "90", waiting_approval: "35" };

export interface ViewOptions {
  mode: "tty" | "plain" | "quiet";
  out?: CommandIO["stdout"];
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)}s` : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * What `grove run` shows while a tree runs: on a terminal, a tree of tasks redrawn in place
 * (state, elapsed time, progress, last log line, the failing task's error); otherwise one plain
 * line per state change and log line, good for CI logs.
 */
export class LiveView {
  private readonly rows = new Map<string, Row>();
  private order: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private drawnLines = 0;
  private readonly out: CommandIO["stdout"];

  constructor(private readonly opts: ViewOptions) {
    this.out = opts.out ?? io().stdout;
  }

  start(tasks: Task[]): void {
    const byParent = new Map<string | null, Task[]>();
    for (const t of tasks) {
      const list = byParent.get(t.parent_id) ?? [];
      list.push(t);
      byParent.set(t.parent_id, list);
    }
    const ids = new Set(tasks.map((t) => t.id));
    const walk = (parent: string | null, depth: number) => {
      for (const t of (byParent.get(parent) ?? []).sort((a, b) => a.created_at - b.created_at)) {
        this.rows.set(t.id, { id: t.id, name: t.name, depth, status: t.status, startedAt: t.started_at, finishedAt: t.finished_at, progress: null, lastLog: null, error: t.error, attempts: t.attempts });
        this.order.push(t.id);
        walk(t.id, depth + 1);
      }
    };
    walk(null, 0);
    // Orphans (parent outside the list) still show.
    for (const t of tasks) if (!this.rows.has(t.id) && (t.parent_id === null || !ids.has(t.parent_id))) walk(t.parent_id, 0);
    if (this.opts.mode === "tty") {
      this.timer = setInterval(() => this.draw(), 100);
      this.draw();
    }
  }

  onEvent = (e: GroveEvent): void => {
    if (this.opts.mode === "quiet" || !e.task_id) return;
    const row = this.rows.get(e.task_id);
    if (!row) return;
    const d = e.data as { attempt?: number; error?: TaskError; message?: string; progress?: number; reason?: string };
    switch (e.type) {
      case "task.started":
        row.status = "running";
        row.startedAt = e.at;
        row.finishedAt = null;
        row.attempts = d.attempt ?? row.attempts + 1;
        row.progress = null;
        break;
      case "task.ready":
        row.status = "ready";
        break;
      case "task.completed":
      case "task.failed":
      case "task.cancelled":
      case "task.skipped":
        row.status = e.type.slice(5) as TaskStatus;
        row.finishedAt = e.at;
        row.error = d.error ?? null;
        break;
      case "task.retrying":
        row.status = "ready";
        row.error = d.error ?? null;
        break;
      case "task.waiting_approval":
        row.status = "waiting_approval";
        break;
      case "task.progress":
        row.progress = d.progress ?? null;
        break;
      case "task.log":
        row.lastLog = String(d.message ?? "");
        break;
      default:
        break;
    }
    if (this.opts.mode === "plain") this.plain(e, row);
  };

  private plain(e: GroveEvent, row: Row): void {
    const time = new Date(e.at).toISOString().slice(11, 23);
    const d = e.data as { attempt?: number; error?: TaskError; message?: string; progress?: number; reason?: string; run_after?: number };
    let line: string | null = null;
    switch (e.type) {
      case "task.started":
        line = `started    ${row.name}${(d.attempt ?? 1) > 1 ? ` (attempt ${d.attempt})` : ""}`;
        break;
      case "task.completed":
        line = `completed  ${row.name} in ${seconds((row.finishedAt ?? e.at) - (row.startedAt ?? e.at))}`;
        break;
      case "task.failed":
        line = `failed     ${row.name}: ${d.error?.type}: ${d.error?.message}`;
        break;
      case "task.retrying":
        line = d.reason === "lease_expired" ? `retrying   ${row.name}: its lease expired (worker died)` : `retrying   ${row.name} after ${d.error?.type}: ${d.error?.message}`;
        break;
      case "task.skipped":
        line = `skipped    ${row.name}: ${d.error?.message}`;
        break;
      case "task.cancelled":
        line = `cancelled  ${row.name}`;
        break;
      case "task.log":
        line = `  ${row.name}> ${d.message}`;
        break;
      case "task.waiting_approval":
        line = `waiting    ${row.name} for approval: ${(e.data.request as { command?: string } | undefined)?.command ?? ""}`;
        break;
      case "task.approved":
      case "task.rejected":
        line = `${e.type.slice(5).padEnd(10)} ${row.name}${e.data.by ? ` by ${String(e.data.by)}` : ""}${e.data.reason ? `: ${String(e.data.reason)}` : ""}`;
        break;
      case "task.progress":
        line = `progress   ${row.name} ${Math.round((d.progress ?? 0) * 100)}%${d.message ? ` ${d.message}` : ""}`;
        break;
      default:
        break;
    }
    if (line !== null) this.out.write(`${time} ${line}\n`);
  }

  private line(row: Row, now: number): string {
    const indent = "  ".repeat(row.depth);
    const elapsed = row.startedAt !== null ? seconds((row.finishedAt ?? now) - row.startedAt) : "";
    let extra = "";
    if (row.status === "running" && row.progress !== null) extra = ` ${bar(row.progress)} ${Math.round(row.progress * 100)}%`;
    if (row.status === "running" && row.lastLog) extra += `  ${row.lastLog.slice(0, 60)}`;
    if ((row.status === "failed" || row.status === "skipped") && row.error) extra = `  ${row.error.type}: ${row.error.message}`;
    if (row.attempts > 1) extra = ` (attempt ${row.attempts})${extra}`;
    const color = COLOR[row.status];
    const sym = color ? `\x1b[${color}m${SYMBOL[row.status]}\x1b[0m` : SYMBOL[row.status];
    return `${indent}${sym} ${row.name.padEnd(Math.max(1, 24 - indent.length))} ${row.status.padEnd(9)} ${elapsed.padStart(7)}${extra}`;
  }

  private draw(final = false): void {
    const now = Date.now();
    const width = this.out.columns || 100;
    const height = Math.max(5, (this.out.rows || 30) - 2);
    let rows = this.order.map((id) => this.rows.get(id)!);
    const counts = new Map<TaskStatus, number>();
    for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    if (rows.length > height - 1) {
      // Too many to show: the interesting ones first (running, failed), then the rest.
      const rank = (s: TaskStatus) => (s === "running" ? 0 : s === "failed" ? 1 : s === "waiting_approval" ? 2 : 3);
      rows = [...rows].sort((a, b) => rank(a.status) - rank(b.status)).slice(0, height - 1);
    }
    const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
    const lines = [...rows.map((r) => this.line(r, now).slice(0, width + 20)), `\x1b[1m${summary}\x1b[0m`];
    let text = "";
    if (this.drawnLines > 0) text += `\x1b[${this.drawnLines}A`;
    text += lines.map((l) => `\x1b[2K${l}`).join("\n") + "\n";
    this.out.write(text);
    this.drawnLines = final ? 0 : lines.length;
  }

  finish(result: TreeResult | null): void {
    if (this.timer) clearInterval(this.timer);
    if (this.opts.mode === "tty") this.draw(true);
    if (this.opts.mode === "quiet" || !result) return;
    const failed = result.tasks.filter((t) => t.status === "failed");
    const started = result.tasks.map((t) => (t.started_at ? Date.parse(t.started_at) : Infinity)).reduce((a, b) => Math.min(a, b), Infinity);
    const ended = result.tasks.map((t) => (t.finished_at ? Date.parse(t.finished_at) : 0)).reduce((a, b) => Math.max(a, b), 0);
    const took = Number.isFinite(started) && ended > 0 ? ` in ${seconds(ended - started)}` : "";
    this.out.write(`tree ${result.name} ${result.status}${took} (${result.tasks.length} tasks, id ${result.tree_id})\n`);
    for (const t of failed) this.out.write(`  ✘ ${t.name}: ${t.error?.type}: ${t.error?.message}\n`);
  }
}

function bar(fraction: number): string {
  const n = Math.round(Math.max(0, Math.min(1, fraction)) * 10);
  return `[${"#".repeat(n)}${"-".repeat(10 - n)}]`;
}
