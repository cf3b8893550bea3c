// JSON-RPC 2.0 error codes of `grove serve` (documented in docs/server.md). The standard codes
// for protocol errors, and one application code per kind of refusal, so that a client can act on
// the code alone. A client error never becomes -32603 / HTTP 500.
import { IllegalTransitionError, InputError, NotFoundError } from "../core/errors.js";

export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  /** No or bad credentials (HTTP 401). */
  UNAUTHORIZED: -32001,
  /** Authenticated, but the credential may not do this (HTTP 200 in the RPC body). */
  FORBIDDEN: -32003,
  /** The task, tree or schedule does not exist in the caller's scope (out-of-scope looks the same). */
  NOT_FOUND: -32004,
  /** The state does not allow it (illegal status transition, name already taken). */
  CONFLICT: -32009,
  /** A tree or schedule definition is invalid (bad tree file, unknown executor, bad cron). */
  VALIDATION: -32010,
  /** Too many requests for this credential (HTTP 429 with Retry-After). */
  RATE_LIMITED: -32029,
} as const;

export type RpcCode = (typeof RPC)[keyof typeof RPC];

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "RpcError";
  }
  /** Protocol and transient errors a client may retry as is. */
  get retryable(): boolean {
    return this.code === RPC.RATE_LIMITED || this.code === RPC.INTERNAL;
  }
  toJSON(): { code: number; message: string; data?: Record<string, unknown> } {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

/** Maps what the domain layers throw to an RPC error; unknown errors are internal (-32603). */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof NotFoundError) return new RpcError(RPC.NOT_FOUND, err.message);
  if (err instanceof IllegalTransitionError) return new RpcError(RPC.CONFLICT, err.message, { task_id: err.taskId, from: err.from, to: err.to });
  if (err instanceof InputError || (err as Error)?.name === "InputError") {
    const e = err as InputError;
    // "already exists" is a state conflict rather than a bad definition.
    if (/already exists|exists under several owners/.test(e.message)) return new RpcError(RPC.CONFLICT, e.message, e.field ? { field: e.field } : undefined);
    return new RpcError(RPC.VALIDATION, e.message, e.field ? { field: e.field } : undefined);
  }
  if ((err as Error)?.name === "TreeValidationError" || (err as Error)?.name === "ValidationError") {
    return new RpcError(RPC.VALIDATION, (err as Error).message);
  }
  return new RpcError(RPC.INTERNAL, "internal error");
}

/** The HTTP status a JSON-RPC error travels with on a single (non-batch) request. */
export function httpStatusOf(code: number): number {
  switch (code) {
    case RPC.PARSE_ERROR:
    case RPC.INVALID_REQUEST:
      return 400;
    case RPC.UNAUTHORIZED:
      return 401;
    case RPC.RATE_LIMITED:
      return 429;
    case RPC.INTERNAL:
      return 500;
    default:
      // Method-level errors are answers, not transport failures (JSON-RPC over HTTP convention).
      return 200;
  }
}
