// Grove.remote({url, apiKey}): the typed API of Grove.local over HTTP (JSON-RPC at /rpc, SSE at
// /trees/:id/events). Every call takes an AbortSignal; errors are RemoteError with the JSON-RPC
// code and `retryable`; events() is an AsyncIterable that reconnects with Last-Event-ID, so it
// yields every event of a tree exactly once even across dropped connections.
import type { GroveEvent, Task, TaskStatus, Tree } from "../core/types.js";
import type { TaskFilter } from "../store/store.js";
import { RemoteAgent } from "./remote-agent.js";
import type { ApprovalSummary, TreeResult } from "./result.js";

export type { RemoteAgentEvent, RemoteAgentOptions, RemoteAgentResult } from "./remote-agent.js";

export interface RemoteOptions {
  /** Base URL of `grove serve` (http://127.0.0.1:8420). */
  url: string;
  /** An API key (`grove keys create`) or a JWT. */
  apiKey: string;
  /** fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** A failed call. `code` is the JSON-RPC error code (docs/server.md); `status` the HTTP status. */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly status: number,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "RemoteError";
  }
  /** Worth retrying unchanged: rate limited, server fault, or the network. */
  get retryable(): boolean {
    return this.code === -32029 || this.code === -32603 || this.status === 0 || this.status >= 502;
  }
}

const ms = (v: unknown): number | null => (typeof v === "string" ? Date.parse(v) : null);

/** A task as the API sends it (ISO times) → the Task of Grove.local (epoch ms). */
function toTask(t: Record<string, unknown>): Task {
  return {
    ...(t as unknown as Task),
    run_after: ms(t.run_after) ?? 0,
    lease_expires_at: ms(t.lease_expires_at),
    created_at: ms(t.created_at) ?? 0,
    started_at: ms(t.started_at),
    finished_at: ms(t.finished_at),
  };
}

export interface RemoteSchedules {
  add(params: Record<string, unknown> & { name: string; tree: unknown }, opts?: CallOptions): Promise<Record<string, unknown>>;
  list(params?: { all?: boolean }, opts?: CallOptions): Promise<Record<string, unknown>[]>;
  show(name: string, opts?: CallOptions): Promise<Record<string, unknown>>;
  run(params?: { name?: string; wait?: boolean }, opts?: CallOptions): Promise<{ schedule: string; version: number; owner: string; run_id: string; status: string; success: boolean | null }[]>;
  logs(name: string, params?: { run?: string; limit?: number }, opts?: CallOptions): Promise<Record<string, unknown>[]>;
  delete(name: string, opts?: CallOptions): Promise<{ name: string; owner: string; version: number; deleted: true }>;
}

/** What tasks.approve / tasks.reject answer. */
export interface RemoteDecision {
  id: string;
  tree_id: string;
  name: string;
  decision: "approved" | "rejected";
  by: string | null;
  reason: string | null;
  /** ready; with `wait`, the task's status once the run stopped. */
  status: TaskStatus;
}

/** A machine as machines.list answers it (as `grove machines list --json`). */
export interface RemoteMachine {
  name: string;
  owner: string;
  kind: "local" | "ssh";
  host: string | null;
  port: number | null;
  user: string | null;
  key_path: string | null;
  password_env: string | null;
  known_hosts: string | null;
  labels: Record<string, string>;
  created_at: string | null;
}

export interface RemoteMachines {
  /** "local", then the machines the caller may use or manages. */
  list(opts?: CallOptions): Promise<RemoteMachine[]>;
  /** Connects and runs `true`. */
  test(name: string, opts?: { timeoutMs?: number } & CallOptions): Promise<{ name: string; ok: boolean; latency_ms: number; error: string | null }>;
  /** Removes a machine the caller manages. */
  remove(name: string, opts?: CallOptions): Promise<{ name: string; owner: string; removed: true }>;
  /** Registers an ssh machine for `owner` (operator credentials only). */
  add(
    spec: { name: string; owner: string; host: string; port?: number; user: string; key_path?: string; password_env?: string; known_hosts?: string; labels?: Record<string, string> },
    opts?: CallOptions,
  ): Promise<RemoteMachine>;
}

export interface DecideOptions extends CallOptions {
  reason?: string;
  /** Resume the tree in the server now (default true). */
  run?: boolean;
  /** Answer once the tree is terminal or waits for a human again. */
  wait?: boolean;
}

export class RemoteGrove {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private nextId = 1;

  constructor(private readonly opts: RemoteOptions) {
    this.base = opts.url.replace(/\/+$/, "");
    this.fetch = opts.fetch ?? fetch;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.opts.apiKey}`, ...extra };
  }

  /** Calls one JSON-RPC method; the result, or a RemoteError. */
  async call<T = unknown>(method: string, params: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<T> {
    let res: Response;
    try {
      res = await this.fetch(`${this.base}/rpc`, {
        method: "POST",
        headers: this.headers({ "content-type": "application/json" }),
        body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new RemoteError(`${method}: ${(err as Error).message}`, -32603, 0);
    }
    const text = await res.text();
    let body: { result?: T; error?: { code: number; message: string; data?: Record<string, unknown> } };
    try {
      body = JSON.parse(text);
    } catch {
      throw new RemoteError(`${method}: HTTP ${res.status} with a body that is not JSON`, -32603, res.status);
    }
    if (body.error) throw new RemoteError(body.error.message, body.error.code, res.status, body.error.data);
    return body.result as T;
  }

  /** Validates a tree definition and stores it; the server's worker runs it. */
  async createTree(doc: unknown, opts: { name?: string; inputs?: Record<string, unknown> } & CallOptions = {}): Promise<Tree> {
    const r = await this.call<TreeResult>("tasks.create", { tree: doc, name: opts.name, inputs: opts.inputs }, opts);
    const root = r.tasks.find((t) => t.parent_id === null) ?? r.tasks[0];
    return { id: r.tree_id, name: r.name, owner: "", inputs: opts.inputs ?? {}, root_id: root?.id ?? "", status: r.status, created_at: Date.now(), finished_at: null };
  }

  /** Runs a stored tree in the server until it is terminal. */
  runTree(treeId: string, opts: { concurrency?: number } & CallOptions = {}): Promise<TreeResult> {
    return this.call<TreeResult>("tasks.execute", { tree_id: treeId, concurrency: opts.concurrency }, opts);
  }

  /** Creates a tree from a definition and runs it in the server. */
  run(doc: unknown, opts: { name?: string; inputs?: Record<string, unknown>; concurrency?: number } & CallOptions = {}): Promise<TreeResult> {
    return this.call<TreeResult>("tasks.execute", { tree: doc, name: opts.name, inputs: opts.inputs, concurrency: opts.concurrency }, opts);
  }

  /** Starts a tree in the server and returns its id at once (follow it with events()). */
  async start(doc: unknown, opts: { name?: string; inputs?: Record<string, unknown> } & CallOptions = {}): Promise<string> {
    const r = await this.call<{ tree_id: string }>("tasks.execute", { tree: doc, name: opts.name, inputs: opts.inputs, stream: true }, opts);
    return r.tree_id;
  }

  treeResult(treeId: string, opts: CallOptions = {}): Promise<TreeResult> {
    return this.call<TreeResult>("tasks.tree", { id: treeId }, opts);
  }

  async getTask(id: string, opts: CallOptions = {}): Promise<Task> {
    return toTask(await this.call<Record<string, unknown>>("tasks.get", { id }, opts));
  }

  async listTasks(filter: Omit<TaskFilter, "scope"> = {}, opts: CallOptions = {}): Promise<Task[]> {
    const rows = await this.call<Record<string, unknown>[]>(
      "tasks.list",
      { tree_id: filter.treeId, status: filter.status, executor: filter.executor, limit: filter.limit, offset: filter.offset },
      opts,
    );
    return rows.map(toTask);
  }

  async cancel(id: string, reason?: string, opts: CallOptions = {}): Promise<number> {
    return (await this.call<{ cancelled: number }>("tasks.cancel", { id, reason }, opts)).cancelled;
  }

  /** Resets a task (and its skipped dependents) for another run, which the server starts; returns them. */
  async retry(taskId: string, opts: CallOptions = {}): Promise<Task[]> {
    const { reset } = await this.call<{ reset: string[] }>("tasks.retry", { id: taskId }, opts);
    return Promise.all(reset.map((id) => this.getTask(id, opts)));
  }

  async logs(id: string, opts: { after?: number; limit?: number } & CallOptions = {}): Promise<GroveEvent[]> {
    const rows = await this.call<(GroveEvent & { at: string })[]>("tasks.logs", { id, after: opts.after, limit: opts.limit }, opts);
    return rows.map((e) => ({ ...e, at: Date.parse(e.at) }));
  }

  readonly schedules: RemoteSchedules = {
    add: (params, opts) => this.call("schedules.add", params, opts),
    list: (params = {}, opts) => this.call("schedules.list", params, opts),
    show: (name, opts) => this.call("schedules.show", { name }, opts),
    run: (params = {}, opts) => this.call("schedules.run", params, opts),
    logs: (name, params = {}, opts) => this.call("schedules.logs", { name, ...params }, opts),
    delete: (name, opts) => this.call("schedules.delete", { name }, opts),
  };

  /** The agent run by the server, with the signature of Grove.local's `grove.agent`. */
  readonly agent: RemoteAgent = new RemoteAgent(this);

  /** Approves a task waiting for approval; the server resumes it. */
  approve(taskId: string, opts: DecideOptions = {}): Promise<RemoteDecision> {
    return this.call("tasks.approve", { id: taskId, reason: opts.reason, run: opts.run, wait: opts.wait }, opts);
  }

  /** Rejects it: the executor resumes with the refusal (the agent is told the command was refused). */
  reject(taskId: string, opts: DecideOptions = {}): Promise<RemoteDecision> {
    return this.call("tasks.reject", { id: taskId, reason: opts.reason, run: opts.run, wait: opts.wait }, opts);
  }

  /** Tasks waiting for approval within the credential's scope, oldest request first. */
  listApprovals(filter: { treeId?: string; limit?: number } = {}, opts: CallOptions = {}): Promise<ApprovalSummary[]> {
    return this.call("tasks.approvals", { tree_id: filter.treeId, limit: filter.limit }, opts);
  }

  readonly machines: RemoteMachines = {
    list: (opts) => this.call("machines.list", {}, opts),
    test: (name, opts = {}) => this.call("machines.test", { name, timeout_ms: opts.timeoutMs }, opts),
    remove: (name, opts) => this.call("machines.remove", { name }, opts),
    add: (spec, opts) => this.call("machines.add", spec, opts),
  };

  /**
   * The events of a tree (or, with `task: true`, of one task) from `after`, until it is terminal.
   * A dropped connection is reopened with Last-Event-ID, with backoff, up to `maxRetries` in a row.
   */
  async *events(id: string, opts: { after?: number; task?: boolean; maxRetries?: number } & CallOptions = {}): AsyncGenerator<GroveEvent> {
    let last = opts.after ?? 0;
    let failures = 0;
    const path = `${this.base}/${opts.task ? "tasks" : "trees"}/${encodeURIComponent(id)}/events`;
    for (;;) {
      let res: Response;
      try {
        res = await this.fetch(path, { headers: this.headers({ accept: "text/event-stream", "last-event-id": String(last) }), signal: opts.signal });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (++failures > (opts.maxRetries ?? 10)) throw new RemoteError(`event stream: ${(err as Error).message}`, -32603, 0);
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** failures)));
        continue;
      }
      if (!res.ok || !res.body) {
        const body = (await res.json().catch(() => ({}))) as { error?: { code: number; message: string } };
        const err = new RemoteError(body.error?.message ?? `event stream: HTTP ${res.status}`, body.error?.code ?? -32603, res.status);
        if (!err.retryable || ++failures > (opts.maxRetries ?? 10)) throw err;
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** failures)));
        continue;
      }
      let ended = false;
      try {
        for await (const frame of sseFrames(res.body)) {
          failures = 0;
          if (frame.event === "end") {
            ended = true;
            break;
          }
          if (frame.id === undefined || frame.data === undefined) continue;
          const e = JSON.parse(frame.data) as GroveEvent & { at: string };
          last = Number(frame.id);
          yield { ...e, at: Date.parse(e.at) };
        }
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        // A broken connection: reopen from `last`.
      }
      if (ended) return;
      if (++failures > (opts.maxRetries ?? 10)) throw new RemoteError("event stream: too many reconnects", -32603, 0);
      await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** failures)));
    }
  }

  /** Methods the server offers, with their JSON Schemas. */
  async methods(opts: CallOptions = {}): Promise<{ name: string; description: string; params: unknown; result: unknown }[]> {
    const res = await this.fetch(`${this.base}/rpc/methods`, { headers: this.headers(), signal: opts.signal });
    const body = (await res.json()) as { methods: { name: string; description: string; params: unknown; result: unknown }[]; error?: { code: number; message: string } };
    if (!res.ok) throw new RemoteError(body.error?.message ?? `HTTP ${res.status}`, body.error?.code ?? -32603, res.status);
    return body.methods;
  }
}

/** Parses a text/event-stream body into frames. */
async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id?: string; event?: string; data?: string }> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const f: { id?: string; event?: string; data?: string } = {};
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const c = line.indexOf(":");
        const k = c < 0 ? line : line.slice(0, c);
        const v = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
        if (k === "data") f.data = f.data === undefined ? v : `${f.data}\n${v}`;
        else if (k === "id" || k === "event") f[k] = v;
      }
      if (f.data !== undefined || f.event !== undefined) yield f;
    }
  }
}
