// GET /trees/:id/events and GET /tasks/:id/events: Server-Sent Events read from the events table.
// Each event is sent with `id: <seq>`, so a client reconnecting with Last-Event-ID resumes right
// after the last event it got. Comment lines are sent as heartbeats. The stream ends (with a final
// `event: end`, which has no id) once the tree or task is terminal and every event was sent.
import type { ServerResponse } from "node:http";
import { isTerminal, type GroveEvent } from "../core/types.js";
import type { Store } from "../store/store.js";
import { EventTail, type TailFilter } from "./event-tail.js";

export interface SseOptions {
  heartbeatMs: number;
  /** Backstop polling for events written by other processes. */
  pollMs: number;
}

export const DEFAULT_SSE: SseOptions = { heartbeatMs: 15_000, pollMs: 250 };

async function send(res: ServerResponse, chunk: string): Promise<void> {
  if (res.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

export function sseFrame(e: GroveEvent): string {
  // JSON has no raw newlines, so one data line carries the whole event.
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e, at: new Date(e.at).toISOString() })}\n\n`;
}

/**
 * Streams until done or the client leaves. `isDone` is checked before each read that finds
 * nothing new, so events committed together with the final status are always sent first.
 */
export async function streamEvents(
  store: Store,
  res: ServerResponse,
  opts: SseOptions & { filter: TailFilter; after: number; signal: AbortSignal; status: () => Promise<string | null> },
): Promise<void> {
  const tail = new EventTail(store, opts.filter, opts.after);
  let wake: (() => void) | null = null;
  const matches = (e: GroveEvent) => (opts.filter.taskId ? e.task_id === opts.filter.taskId : e.tree_id === opts.filter.treeId);
  const off = store.bus.on((e) => {
    if (wake && matches(e)) wake();
  });
  const onAbort = () => wake?.();
  opts.signal.addEventListener("abort", onAbort);
  let lastWrite = Date.now();
  try {
    await send(res, `retry: 1000\n: grove event stream\n\n`);
    while (!opts.signal.aborted) {
      const status = await opts.status();
      const events = await tail.next();
      for (const e of events) {
        if (opts.signal.aborted) return;
        await send(res, sseFrame(e));
      }
      if (events.length > 0) lastWrite = Date.now();
      if (events.length >= 500) continue;
      if (status !== null && events.length === 0 && !tail.holding) {
        await send(res, `event: end\ndata: ${JSON.stringify({ status })}\n\n`);
        return;
      }
      if (Date.now() - lastWrite >= opts.heartbeatMs) {
        await send(res, `: heartbeat ${new Date().toISOString()}\n\n`);
        lastWrite = Date.now();
      }
      const waitMs = tail.holding ? 20 : Math.min(opts.pollMs, opts.heartbeatMs);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, waitMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    off();
    opts.signal.removeEventListener("abort", onAbort);
  }
}

/** The terminal status of a tree (null while running). */
export async function treeStatus(store: Store, treeId: string): Promise<string | null> {
  const t = await store.getTree(treeId);
  return !t || t.status === "running" ? null : t.status;
}

export async function taskStatus(store: Store, taskId: string): Promise<string | null> {
  const t = await store.getTask(taskId);
  return !t || !isTerminal(t.status) ? null : t.status;
}
