import type { GroveEvent, EventType } from "./types.js";

/** Typed in-process subscription to the events a store appends (the live CLI view uses it). */
export type EventListener = (event: GroveEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(events: readonly GroveEvent[]): void {
    if (this.listeners.size === 0) return;
    for (const e of events) for (const l of this.listeners) l(e);
  }
  get size(): number {
    return this.listeners.size;
  }
}

/** Whether an event means a task became claimable (a worker waiting for work should wake). */
export function makesReady(e: Pick<GroveEvent, "type" | "data">): boolean {
  return e.type === "task.ready" || (e.type === "task.created" && e.data.status === "ready");
}

export const TERMINAL_TREE_EVENTS: readonly EventType[] = ["tree.completed", "tree.failed", "tree.cancelled"];
