// JSON-RPC 2.0 over POST /rpc: single and batch requests, notifications, the standard error codes
// and the application codes of errors.ts. Params are by name (an object). A handler's thrown
// error is mapped by toRpcError; only a real server fault is -32603.
import { z } from "zod";
import type { Principal } from "./auth/principal.js";
import { RPC, RpcError, toRpcError } from "./errors.js";
import type { MethodRegistry } from "./methods/registry.js";
import type { ServerServices } from "./services.js";

export const MAX_BATCH = 100;

type Id = string | number | null;
export interface RpcResponse {
  jsonrpc: "2.0";
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

export interface DispatchContext {
  principal: Principal;
  services: ServerServices;
  signal: AbortSignal;
  /** Called for every internal error (logged by the server without params or secrets). */
  onInternalError?(method: string, err: unknown): void;
}

const fail = (id: Id, e: RpcError): RpcResponse => ({ jsonrpc: "2.0", id, error: e.toJSON() });

function validId(v: unknown): v is Id {
  return v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

/** The field of the first issue (`tree.tasks.0.name`), for clients to point at. */
function paramsError(err: z.ZodError): RpcError {
  const issue = err.issues[0]!;
  const field = issue.path.map(String).join(".");
  const issues = err.issues.slice(0, 20).map((i) => ({ field: i.path.map(String).join("."), message: i.message }));
  return new RpcError(RPC.INVALID_PARAMS, field ? `invalid params: ${field}: ${issue.message}` : `invalid params: ${issue.message}`, { field, issues });
}

async function call(registry: MethodRegistry, req: unknown, ctx: DispatchContext): Promise<RpcResponse | null> {
  if (typeof req !== "object" || req === null || Array.isArray(req)) return fail(null, new RpcError(RPC.INVALID_REQUEST, "invalid request: expected an object"));
  const r = req as Record<string, unknown>;
  const hasId = "id" in r;
  const id: Id = hasId && validId(r.id) ? (r.id as Id) : null;
  if (hasId && !validId(r.id)) return fail(null, new RpcError(RPC.INVALID_REQUEST, "invalid request: id must be a string, a number or null"));
  if (r.jsonrpc !== "2.0") return fail(id, new RpcError(RPC.INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"'));
  if (typeof r.method !== "string") return fail(id, new RpcError(RPC.INVALID_REQUEST, 'invalid request: "method" must be a string'));
  const respond = (res: RpcResponse) => (hasId ? res : null);
  const method = registry.get(r.method);
  if (!method) return respond(fail(id, new RpcError(RPC.METHOD_NOT_FOUND, `method not found: ${r.method.slice(0, 100)}`)));
  const raw = r.params === undefined ? {} : r.params;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return respond(fail(id, new RpcError(RPC.INVALID_PARAMS, "invalid params: params must be an object (by name)", { field: "" })));
  }
  const parsed = method.params.safeParse(raw);
  if (!parsed.success) return respond(fail(id, paramsError(parsed.error)));
  try {
    const result = await method.handler(parsed.data, { principal: ctx.principal, scope: ctx.principal.scope, services: ctx.services, signal: ctx.signal });
    return respond({ jsonrpc: "2.0", id, result: result === undefined ? null : result });
  } catch (err) {
    const e = toRpcError(err);
    if (e.code === RPC.INTERNAL) ctx.onInternalError?.(method.name, err);
    return respond(fail(id, e));
  }
}

/**
 * Answers a parsed body: one response, an array for a batch, or null when nothing is to be sent
 * (only notifications).
 */
export async function dispatch(registry: MethodRegistry, body: unknown, ctx: DispatchContext): Promise<RpcResponse | RpcResponse[] | null> {
  if (Array.isArray(body)) {
    if (body.length === 0) return fail(null, new RpcError(RPC.INVALID_REQUEST, "invalid request: empty batch"));
    if (body.length > MAX_BATCH) return fail(null, new RpcError(RPC.INVALID_REQUEST, `invalid request: a batch holds at most ${MAX_BATCH} calls`));
    const out = (await Promise.all(body.map((req) => call(registry, req, ctx)))).filter((r): r is RpcResponse => r !== null);
    return out.length > 0 ? out : null;
  }
  return call(registry, body, ctx);
}

export function parseBody(text: string): { ok: true; value: unknown } | { ok: false; response: RpcResponse } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, response: fail(null, new RpcError(RPC.PARSE_ERROR, "parse error: the body is not valid JSON")) };
  }
}
