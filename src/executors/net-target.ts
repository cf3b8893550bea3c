import { promises as dns, type LookupAddress } from "node:dns";
import { TaskFailure } from "../core/errors.js";
import type { RuntimeSettings } from "../core/executor.js";
import { addressRange, assertPublicUrl } from "./net-guard.js";

/**
 * The private-address guard (net-guard.ts) for executors whose target is not an http(s) URL:
 * a `host:port` (gRPC, SMTP) or a ws(s):// URL. The target is written as a `scheme://host:port`
 * URL only so the refusal message names what the user wrote.
 */
export async function assertPublicHost(
  scheme: string,
  host: string,
  port: number | undefined,
  settings: Pick<RuntimeSettings, "allowPrivateNetwork">,
  signal?: AbortSignal,
): Promise<void> {
  if (settings.allowPrivateNetwork) return;
  const literal = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  let url: URL;
  try {
    url = new URL(`${scheme}://${literal}${port === undefined ? "" : `:${port}`}`);
  } catch {
    throw new TaskFailure("validation_error", `${JSON.stringify(host)} is not a valid host name`);
  }
  await assertPublicUrl(url, settings, signal);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` replacement for net/tls/http options that refuses non-public answers. The
 * pre-check above resolves the name once; passing this as the socket's `lookup` also vets the
 * addresses the socket actually connects to, closing the DNS-rebinding window for libraries
 * that accept a lookup function (ws does). Allows everything when allowPrivateNetwork is set.
 */
export function publicLookup(settings: Pick<RuntimeSettings, "allowPrivateNetwork">) {
  return (hostname: string, options: { all?: boolean; family?: number } | number, callback: LookupCallback): void => {
    const opts = typeof options === "number" ? { family: options } : (options ?? {});
    dns
      .lookup(hostname, { all: true, verbatim: true, family: opts.family ?? 0 })
      .then((addresses) => {
        if (!settings.allowPrivateNetwork) {
          const bad = addresses.find((a) => addressRange(a.address) !== "unicast");
          if (bad) {
            const err: NodeJS.ErrnoException = new Error(
              `refusing ${hostname}: it resolves to ${bad.address}, a non-public (${addressRange(bad.address)}) address`,
            );
            err.code = "EPRIVATEADDRESS";
            callback(err, []);
            return;
          }
        }
        if (opts.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      })
      .catch((err: NodeJS.ErrnoException) => callback(err, []));
  };
}

/**
 * How much later than an executor's own deadline a library's timer (nodemailer, ws handshake, MCP
 * request, gRPC deadline) is set: the executor's deadline fires first and reports a "timeout"
 * failure with one consistent message, instead of racing the library's own error.
 */
export const BACKSTOP_MS = 1000;

/**
 * One AbortSignal for the engine's signal (timeout/cancel) and the executor's own timeout_ms;
 * `what` names the operation in the timeout message. Call `done()` when finished.
 */
export function deadline(ctxSignal: AbortSignal, timeoutMs: number, what: string): { signal: AbortSignal; done(): void; timedOut(): boolean } {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new TaskFailure("timeout", `${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  return {
    signal: AbortSignal.any([ctxSignal, ctl.signal]),
    done: () => clearTimeout(timer),
    timedOut: () => ctl.signal.aborted,
  };
}

/** The failure to report once `signal` (from `deadline`) has fired: the timeout, or a cancellation. */
export function abortFailure(signal: AbortSignal, what: string): TaskFailure {
  const reason: unknown = signal.reason;
  return reason instanceof TaskFailure ? reason : new TaskFailure("cancelled", `${what} cancelled`);
}

/** Rejects with the signal's failure when it fires; keeps `p`'s outcome otherwise. */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(abortFailure(signal, what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortFailure(signal, what));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** `err`'s message with its errno code, for "cannot connect" failures. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const cause = (err as Error & { cause?: unknown }).cause;
  const base = code && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  return cause instanceof Error && !base.includes(cause.message) ? `${base}: ${cause.message}` : base;
}
