// A real grove server for tests: fastify listening on 127.0.0.1 (an ephemeral port) over a real
// store (a SQLite file, or a PostgreSQL database), with real API keys.
import { join } from "node:path";
import { DEFAULT_SETTINGS } from "../../src/core/executor.js";
import { ExecutorRegistry, globalRegistry } from "../../src/core/registry.js";
import { makeAgentExecutor } from "../../src/agent/executor.js";
import { registerBuiltins, registerMachineExecutors } from "../../src/executors/index.js";
import { MachineRegistry } from "../../src/machines/registry.js";
import { hasMachines } from "../../src/store/machine-store.js";
import { createServer, type GroveServer, type ServerOptions } from "../../src/server/app.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/cli.js";

export interface TestServer {
  url: string;
  server: GroveServer;
  store: Store;
  db: string;
  key(scope: string, name?: string): Promise<string>;
  close(): Promise<void>;
}

/** The built-ins and the agent; with a machine registry, those that run on machines are bound to it (as in grove serve). */
export function registry(machines?: MachineRegistry): ExecutorRegistry {
  const r = globalRegistry.clone();
  registerBuiltins(r);
  if (machines) registerMachineExecutors(r, machines.resolver);
  r.register(makeAgentExecutor(machines ? { resolveMachine: machines.resolver } : {}), { override: true });
  return r;
}

export async function startServer(opts: { db?: string } & Partial<ServerOptions> = {}): Promise<TestServer> {
  const db = opts.db ?? join(tempDir("grove-server-"), "g.db");
  const store = await openStore(db);
  const machines = hasMachines(store) ? new MachineRegistry(store.machines()) : undefined;
  const server = await createServer({
    store,
    registry: registry(machines),
    machines,
    settings: { ...DEFAULT_SETTINGS, allowPrivateNetwork: true },
    dbSpec: db,
    rateLimit: { perSecond: 0, burst: 1 },
    ...opts,
  });
  const url = await server.listen(0, "127.0.0.1");
  return {
    url,
    server,
    store,
    db,
    async key(scope, name = scope) {
      return (await server.services.keys.create({ name, scope })).key;
    },
    async close() {
      await server.close();
      await machines?.close();
      await store.close();
    },
  };
}

export interface RpcAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<RpcAnswer> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function rpc(base: string, key: string | undefined, method: string, params?: unknown): Promise<RpcAnswer> {
  return post(`${base}/rpc`, JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), key ? { authorization: `Bearer ${key}` } : {});
}

/** The result of a call that must succeed. */
export async function ok(base: string, key: string, method: string, params?: unknown): Promise<any> {
  const r = await rpc(base, key, method, params);
  if (r.body?.error) throw new Error(`${method} failed: ${JSON.stringify(r.body.error)}`);
  return r.body.result;
}

export const echoTree = (name = "hi", text = "hello") => ({ name, tasks: [{ name: "say", executor: "command", inputs: { command: `echo ${text}` } }] });

/** Reads an SSE stream to its end (or until `stopAfter` events), returning the parsed frames. */
export async function readSse(url: string, headers: Record<string, string>, opts: { stopAfter?: number; signal?: AbortSignal } = {}) {
  const frames: { id?: string; event?: string; data?: string }[] = [];
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: opts.signal });
  } catch (err) {
    // Dropped before the answer came (status 0): the caller reconnects.
    if (opts.signal?.aborted) return { status: 0, frames, body: "" };
    throw err;
  }
  if (!res.ok || !res.body) return { status: res.status, frames, body: await res.text() };
  const ac = new AbortController();
  const decoder = new TextDecoder();
  let buf = "";
  const reader = res.body.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        // The caller's signal dropped the connection: what arrived so far is the answer.
        if (opts.signal?.aborted) return { status: res.status, frames, body: "" };
        throw err;
      }
      const { value, done } = chunk;
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const f: { id?: string; event?: string; data?: string } = {};
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const c = line.indexOf(":");
          const k = line.slice(0, c);
          const v = line.slice(c + 1).replace(/^ /, "");
          if (k === "id" || k === "event" || k === "data") f[k] = v;
        }
        if (f.event || f.data) frames.push(f);
        if (f.event === "end") return { status: res.status, frames, body: "" };
        if (opts.stopAfter !== undefined && frames.filter((x) => x.id).length >= opts.stopAfter) {
          await reader.cancel();
          ac.abort();
          return { status: res.status, frames, body: "" };
        }
      }
    }
  } finally {
    reader.releaseLock?.();
  }
  return { status: res.status, frames, body: "" };
}
