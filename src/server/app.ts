// The HTTP server of `grove serve` (fastify): JSON-RPC at POST /rpc, method discovery, SSE event
// streams, inbound schedule webhooks, health and metrics, and MCP at /mcp. Every route but
// /health and /hooks (HMAC-signed instead) needs a credential; the scope of every operation is
// the credential's. Client mistakes are 4xx with a JSON-RPC error body, never a 500.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { readFileSync } from "node:fs";
import type { RuntimeSettings } from "../core/executor.js";
import type { ExecutorRegistry } from "../core/registry.js";
import type { MachineRegistry } from "../machines/registry.js";
import type { Store } from "../store/store.js";
import { AuthError, Authenticator, type JwtOptions, type Principal } from "./auth/principal.js";
import { isDashboardRequest, registerDashboard } from "./dashboard.js";
import { RPC, RpcError, httpStatusOf } from "./errors.js";
import { EventWebhooks, type DeliveryReport, type EventWebhookConfig } from "./hooks/outbound.js";
import { registerHookRoutes } from "./hooks/route.js";
import { defaultMethods } from "./methods/index.js";
import type { MethodRegistry } from "./methods/registry.js";
import { RateLimiter, type RateLimitOptions } from "./rate-limit.js";
import { dispatch, parseBody } from "./rpc.js";
import { createServices, type ServerServices } from "./services.js";
import { DEFAULT_SSE, streamEvents, taskStatus, treeStatus, type SseOptions } from "./sse.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export interface ServerOptions {
  store: Store;
  registry: ExecutorRegistry;
  settings: RuntimeSettings;
  /** The database spec of this process (schedule command-line targets are dispatched with it). */
  dbSpec: string;
  executorModules?: string[];
  jwt?: JwtOptions;
  /** Per credential; default 50 requests/s with bursts of 100. `perSecond: 0` disables it. */
  rateLimit?: RateLimitOptions;
  /** Largest request body in bytes (default 1 MiB); larger is 413. */
  bodyLimit?: number;
  /** The server worker running stored trees: tasks at once (default 8); 0 disables it. */
  workerConcurrency?: number;
  /** Tasks at once per tree run by tasks.execute (default 8). */
  concurrency?: number;
  leaseMs?: number;
  sse?: Partial<SseOptions>;
  eventWebhooks?: EventWebhookConfig[];
  /** Called after each outbound webhook delivery (succeeded or given up), e.g. to log it. */
  onWebhookDelivery?: (report: DeliveryReport) => void;
  /** fastify's pino logger (request lines; never headers or bodies). */
  logger?: boolean;
  methods?: MethodRegistry;
  /** Serve MCP (Streamable HTTP) at /mcp (default true). */
  mcp?: boolean;
  /** The machine registry the registry's executors are bound to (see services.ts). */
  machines?: MachineRegistry;
}

export interface GroveServer {
  app: FastifyInstance;
  services: ServerServices;
  methods: MethodRegistry;
  /** Listens and returns the base URL (`http://127.0.0.1:8420`). */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function errorBody(code: number, message: string, data?: Record<string, unknown>) {
  return { jsonrpc: "2.0", id: null, error: data ? { code, message, data } : { code, message } };
}

/** The signal of a request: aborted when the client disconnects before the answer is sent. */
export function requestSignal(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}

export async function createServer(opts: ServerOptions): Promise<GroveServer> {
  const services = createServices({
    store: opts.store,
    registry: opts.registry,
    settings: opts.settings,
    dbSpec: opts.dbSpec,
    executorModules: opts.executorModules,
    concurrency: opts.concurrency,
    leaseMs: opts.leaseMs,
    machines: opts.machines,
  });
  const methods = opts.methods ?? defaultMethods();
  const auth = new Authenticator(services.keys, opts.jwt);
  const limiter = new RateLimiter(opts.rateLimit ?? { perSecond: 50, burst: 100 });
  const sse: SseOptions = { ...DEFAULT_SSE, ...opts.sse };
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: opts.bodyLimit ?? 1024 * 1024, trustProxy: false, forceCloseConnections: true });

  // Bodies are read raw: /rpc parses JSON itself (to answer -32700), /hooks signs the exact bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const isPublic = (url: string) => url === "/health" || url.startsWith("/health?") || url.startsWith("/hooks/");

  app.addHook("onRequest", async (req, reply) => {
    if (isPublic(req.url) || isDashboardRequest(req.method, req.url)) return;
    try {
      req.principal = await auth.authenticate(req.headers.authorization);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      // Failed attempts are limited per address, so keys cannot be guessed at full speed.
      const wait = limiter.take(`ip:${req.ip}`);
      if (wait > 0) return reply.code(429).header("retry-after", String(wait)).send(errorBody(RPC.RATE_LIMITED, "too many requests"));
      return reply.code(401).header("www-authenticate", 'Bearer realm="grove"').send(errorBody(RPC.UNAUTHORIZED, err.message));
    }
    const wait = limiter.take(req.principal.id);
    if (wait > 0) return reply.code(429).header("retry-after", String(wait)).send(errorBody(RPC.RATE_LIMITED, `rate limit exceeded: retry after ${wait}s`));
  });

  app.addHook("onResponse", async (req, reply) => {
    services.metrics.request(req.routeOptions.url ?? "unknown", reply.statusCode);
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody(RPC.NOT_FOUND, `no route ${req.method} ${req.url.split("?")[0]}`));
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err: { name: err.name, message: err.message, stack: err.stack } }, "internal error");
      return reply.code(500).send(errorBody(RPC.INTERNAL, "internal error"));
    }
    const code = status === 413 ? RPC.INVALID_REQUEST : status === 415 || status === 400 ? RPC.INVALID_REQUEST : RPC.INVALID_REQUEST;
    const message = status === 413 ? `request body too large (limit ${opts.bodyLimit ?? 1024 * 1024} bytes)` : err.message;
    return reply.code(status).send(errorBody(code, message));
  });

  app.get("/health", async () => ({ status: "ok", version: pkg.version, store: opts.store.kind }));

  app.get("/metrics", async (req, reply) => {
    if (req.principal!.scope !== "") return reply.code(403).send(errorBody(RPC.FORBIDDEN, "metrics cover every scope: use a credential with scope /"));
    return reply.type("text/plain; version=0.0.4").send(await services.metrics.render());
  });

  app.get("/rpc/methods", async () => ({ methods: methods.describe() }));

  app.post("/rpc", async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
    const parsed = parseBody(raw);
    if (!parsed.ok) return reply.code(400).send(parsed.response);
    const out = await dispatch(methods, parsed.value, {
      principal: req.principal!,
      services,
      signal: requestSignal(reply),
      onInternalError: (method, err) => req.log.error({ method, err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } }, "method failed"),
    });
    if (out === null) return reply.code(204).send();
    const status = Array.isArray(out) ? 200 : out.error ? httpStatusOf(out.error.code) : 200;
    return reply.code(status).send(out);
  });

  const after = (req: FastifyRequest): number | RpcError => {
    const q = req.query as Record<string, unknown>;
    const raw = (req.headers["last-event-id"] as string | undefined) ?? (typeof q.after === "string" ? q.after : undefined);
    if (raw === undefined || raw === "") return 0;
    if (!/^\d{1,15}$/.test(raw.trim())) return new RpcError(RPC.INVALID_REQUEST, "Last-Event-ID (or ?after) must be an event seq");
    return Number(raw.trim());
  };

  const sseRoute = (kind: "tree" | "task") => async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const { store } = services;
    const scope = req.principal!.scope;
    const id = req.params.id;
    const found = kind === "tree" ? await store.getTree(id, scope) : await store.getTask(id, scope);
    if (!found) return reply.code(404).send(errorBody(RPC.NOT_FOUND, `no ${kind} ${id}`));
    const from = after(req);
    if (from instanceof RpcError) return reply.code(400).send(errorBody(from.code, from.message));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", connection: "keep-alive", "x-accel-buffering": "no" });
    const ac = new AbortController();
    res.on("close", () => ac.abort());
    try {
      await streamEvents(store, res, {
        ...sse,
        filter: kind === "tree" ? { treeId: id } : { taskId: id },
        after: from,
        signal: ac.signal,
        status: () => (kind === "tree" ? treeStatus(store, id) : taskStatus(store, id)),
      });
    } catch (err) {
      req.log.error({ err: { message: (err as Error).message } }, "event stream failed");
    } finally {
      res.end();
    }
  };
  app.get("/trees/:id/events", sseRoute("tree"));
  app.get("/tasks/:id/events", sseRoute("task"));

  registerHookRoutes(app, services, limiter);
  // The dashboard's static files and client routes at / (no data in them; see dashboard.ts).
  registerDashboard(app);

  if (opts.mcp !== false) {
    const { registerMcpRoute } = await import("./mcp-http.js");
    registerMcpRoute(app, services, methods);
  }

  const webhooks = opts.eventWebhooks?.length ? new EventWebhooks(services.store, opts.eventWebhooks, { allowPrivateNetwork: !!opts.settings.allowPrivateNetwork, onDelivery: opts.onWebhookDelivery }) : undefined;

  return {
    app,
    services,
    methods,
    async listen(port, host) {
      services.metrics.start();
      if ((opts.workerConcurrency ?? 8) > 0) services.trees.startWorker(opts.workerConcurrency ?? 8);
      await webhooks?.start();
      const address = await app.listen({ port, host });
      return address;
    },
    async close() {
      await webhooks?.stop();
      services.metrics.stop();
      await services.trees.close(0);
      await services.close();
      await app.close();
    },
  };
}
