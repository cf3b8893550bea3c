// The dashboard's only way to the data: the public API of `grove serve` — JSON-RPC at POST /rpc
// and the SSE routes — with the API key the user typed, sent as `Authorization: Bearer`. The key
// lives in sessionStorage (gone when the tab closes) and is never put in a URL or logged.
// EventSource cannot send headers, so event streams are read with fetch and parsed here.

const KEY = "grove.key";

export function getKey(): string | null {
  return sessionStorage.getItem(KEY);
}
export function setKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}
export function clearKey(): void {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly status: number,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** Called when the server refuses the key (401): the app goes back to the login page. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

function headers(key = getKey()): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

let nextId = 1;

export async function rpc<T = any>(method: string, params: Record<string, unknown> = {}, opts: { signal?: AbortSignal; key?: string } = {}): Promise<T> {
  const res = await fetch("/rpc", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers(opts.key) },
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
    signal: opts.signal,
  });
  const body = (await res.json().catch(() => null)) as { result?: T; error?: { code: number; message: string; data?: unknown } } | null;
  if (res.status === 401) {
    if (!opts.key) onUnauthorized();
    throw new ApiError(-32001, body?.error?.message ?? "unauthorized", 401);
  }
  if (!body) throw new ApiError(-32603, `HTTP ${res.status}`, res.status);
  if (body.error) throw new ApiError(body.error.code, body.error.message, res.status, body.error.data);
  return body.result as T;
}

export interface MethodInfo {
  name: string;
  description: string;
}

let methodsCache: Promise<Set<string>> | null = null;

/** The names of the server's methods (GET /rpc/methods): pages offer what the server has. */
export function methods(key?: string): Promise<Set<string>> {
  if (key || !methodsCache) {
    const p = (async () => {
      const res = await fetch("/rpc/methods", { headers: headers(key) });
      if (res.status === 401) throw new ApiError(-32001, "this key was not accepted", 401);
      if (!res.ok) throw new ApiError(-32603, `HTTP ${res.status}`, res.status);
      const body = (await res.json()) as { methods: MethodInfo[] };
      return new Set(body.methods.map((m) => m.name));
    })();
    if (key) return p;
    methodsCache = p.catch((err) => {
      methodsCache = null;
      throw err;
    });
  }
  return methodsCache;
}

export function resetMethods(): void {
  methodsCache = null;
}

export interface GroveEvent {
  seq: number;
  tree_id: string;
  task_id: string | null;
  type: string;
  data: Record<string, any>;
  at: string;
}

export interface StreamHandlers {
  /** Events arrive in batches (one per network chunk), so a busy stream re-renders once per chunk. */
  onEvents(events: GroveEvent[]): void;
  onEnd?(status: string): void;
  onState?(state: "connecting" | "live" | "reconnecting" | "ended" | "error", detail?: string): void;
}

/**
 * Follows `path` (/trees/:id/events or /tasks/:id/events) from `after` until `end`, reconnecting
 * with Last-Event-ID after a drop. Returns a function that stops it.
 */
export function follow(path: string, after: number, h: StreamHandlers): () => void {
  const ac = new AbortController();
  let last = after;
  let delay = 500;
  const run = async () => {
    h.onState?.("connecting");
    while (!ac.signal.aborted) {
      try {
        const res = await fetch(path, { headers: { ...headers(), accept: "text/event-stream", ...(last > 0 ? { "last-event-id": String(last) } : {}) }, signal: ac.signal });
        if (res.status === 401) {
          onUnauthorized();
          h.onState?.("error", "unauthorized");
          return;
        }
        if (!res.ok || !res.body) {
          h.onState?.("error", `HTTP ${res.status}`);
          return;
        }
        h.onState?.("live");
        delay = 500;
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          const batch: GroveEvent[] = [];
          let i: number;
          let ended: string | null = null;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = "message";
            let data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) continue;
              const c = line.indexOf(":");
              const k = c < 0 ? line : line.slice(0, c);
              const v = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
              if (k === "event") event = v;
              else if (k === "data") data += data ? `\n${v}` : v;
            }
            if (!data) continue;
            if (event === "end") {
              ended = (JSON.parse(data) as { status: string }).status;
              continue;
            }
            const e = JSON.parse(data) as GroveEvent;
            last = Math.max(last, e.seq);
            batch.push(e);
          }
          if (batch.length) h.onEvents(batch);
          if (ended !== null) {
            h.onState?.("ended");
            h.onEnd?.(ended);
            ac.abort();
            return;
          }
        }
      } catch (err) {
        if (ac.signal.aborted) return;
        h.onState?.("reconnecting", (err as Error).message);
      }
      // Dropped: continue right after the last event received.
      if (ac.signal.aborted) return;
      h.onState?.("reconnecting");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  void run();
  return () => ac.abort();
}

// Shapes of the API's answers (docs/server.md; GET /rpc/methods has their JSON Schemas).

export type TaskStatus = "pending" | "ready" | "running" | "completed" | "failed" | "cancelled" | "skipped" | "waiting_approval";
export const TASK_STATUSES: TaskStatus[] = ["pending", "ready", "running", "waiting_approval", "completed", "failed", "cancelled", "skipped"];
export const TERMINAL = new Set<string>(["completed", "failed", "cancelled", "skipped"]);

export interface TaskError {
  type: string;
  message: string;
  details?: unknown;
}

export interface Task {
  id: string;
  tree_id: string;
  parent_id: string | null;
  name: string;
  executor: string;
  inputs: Record<string, unknown>;
  dependencies: { task: string; required: boolean }[];
  owner: string;
  status: TaskStatus;
  result: unknown;
  error: TaskError | null;
  attempts: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface Attempt {
  attempt: number;
  worker: string;
  started_at: string | null;
  finished_at: string | null;
  outcome: string;
  resolved_inputs: Record<string, unknown> | null;
  error: TaskError | null;
}

export interface TreeSummary {
  tree_id: string;
  name: string;
  owner: string;
  status: string;
  root_id: string;
  created_at: string | null;
  finished_at: string | null;
  counts: Partial<Record<TaskStatus, number>>;
}

export interface TreeResult {
  tree_id: string;
  name: string;
  status: string;
  tasks: { id: string; name: string; status: TaskStatus }[];
}

export interface Approval {
  task_id: string;
  tree_id: string;
  name: string;
  executor?: string;
  owner?: string;
  command: string;
  reasons: string[];
  risk: "low" | "medium" | "high" | string;
  machine?: string | null;
  requested_at?: string | null;
}

export interface Schedule {
  name: string;
  version: number;
  owner: string;
  kind: string;
  enabled: boolean;
  run_count: number;
  error_count: number;
  last_fired_at: string | null;
  next_due_at: string | null;
  last_status: string | null;
  last_error: { message?: string; type?: string } | null;
  every: string | null;
  cron: string | null;
  tz: string | null;
  at: string | null;
  deleted_at: string | null;
}

export interface ScheduleRun {
  run_id: string;
  schedule: string;
  version: number;
  status: string;
  due_at: string;
  started_at: string;
  finished_at: string | null;
  error: { message?: string; type?: string } | null;
  tree_id: string | null;
  runner: string;
  items?: { seq: number; at: string; item: Record<string, any> }[];
}
