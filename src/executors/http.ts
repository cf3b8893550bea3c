import { STATUS_CODES } from "node:http";
import { z } from "zod";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import { TaskFailure } from "../core/errors.js";
import { assertPublicUrl } from "./net-guard.js";

export const MAX_REDIRECTS = 5;
/** How much of the response body a non-2xx failure carries in its details. */
const ERROR_BODY_CHARS = 2048;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
type Method = (typeof METHODS)[number];

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

export const HttpAuth = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("bearer"), token: z.string() }),
  z.strictObject({ type: z.literal("basic"), username: z.string(), password: z.string() }),
  z.strictObject({
    type: z.literal("api_key"),
    name: z.string().min(1),
    value: z.string(),
    in: z.enum(["header", "query"]).default("header"),
  }),
]);

export const HttpInput = z.strictObject({
  url: z
    .string()
    .regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\//, "must be an http:// or https:// URL")
    .describe("http:// or https:// URL"),
  method: z.enum(METHODS).default("GET"),
  headers: z.record(z.string(), z.string()).optional(),
  query: z.record(z.string(), Scalar).optional().describe("Appended to the URL's query string"),
  json: z.unknown().optional().describe("Sent as a JSON body (content-type application/json)"),
  form: z.record(z.string(), Scalar).optional().describe("Sent as application/x-www-form-urlencoded"),
  body: z.string().optional().describe("Raw request body"),
  auth: HttpAuth.optional(),
  timeout_ms: z.number().int().positive().default(30_000),
  allow_status: z
    .array(z.number().int().min(100).max(599))
    .default([])
    .describe("Non-2xx statuses that do not fail the task"),
  follow_redirects: z.boolean().default(true).describe(`Follow up to ${MAX_REDIRECTS} redirects`),
  response_type: z
    .enum(["auto", "json", "text"])
    .default("auto")
    .describe("auto: parse JSON when the content-type says JSON"),
});

export const HttpOutput = z.object({
  status: z.number().int(),
  ok: z.boolean(),
  headers: z.record(z.string(), z.string()),
  body: z.unknown(),
  url: z.string(),
  truncated: z.boolean().optional().describe("Set when the body was cut to outputCapBytes bytes"),
});

export type HttpInputs = z.output<typeof HttpInput>;
export type HttpResult = z.infer<typeof HttpOutput>;
export type UrlGuard = (
  url: URL,
  settings: ExecutorContext["settings"],
  signal?: AbortSignal,
) => Promise<void>;

/**
 * Builds the `http` executor. `assertUrl` checks the first URL and every redirect target before
 * it is requested (the private-address guard by default; replaceable for tests).
 */
export function makeHttpExecutor(opts: { assertUrl?: UrlGuard } = {}): Executor {
  const guard = opts.assertUrl ?? assertPublicUrl;
  return defineExecutor({
    id: "http",
    name: "HTTP request",
    description:
      "Sends an HTTP(S) request and returns {status, ok, headers, body, url}; a non-2xx status fails " +
      "the task unless listed in allow_status. Private and link-local addresses are refused " +
      "unless allowPrivateNetwork is set.",
    input: HttpInput,
    output: HttpOutput,
    cancelable: true,
    execute: (inputs, ctx) => request(inputs, ctx, guard),
  });
}

export const http = makeHttpExecutor();

function invalid(message: string): TaskFailure {
  return new TaskFailure("validation_error", message);
}

async function request(inputs: HttpInputs, ctx: ExecutorContext, guard: UrlGuard): Promise<HttpResult> {
  // Defaults are applied by schema validation; repeat them so direct calls behave the same.
  const method: Method = inputs.method ?? "GET";
  const timeoutMs = inputs.timeout_ms ?? 30_000;
  const allowStatus = new Set(inputs.allow_status ?? []);
  const follow = inputs.follow_redirects ?? true;
  const responseType = inputs.response_type ?? "auto";
  const cap = Math.max(0, Math.floor(ctx.settings.outputCapBytes));

  let url: URL;
  try {
    url = new URL(inputs.url);
  } catch {
    throw invalid(`url ${JSON.stringify(inputs.url)} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid(`url must be http:// or https://, got ${url.protocol}`);
  }
  if (url.username || url.password) throw invalid("url must not contain credentials: use auth instead");

  const given = [inputs.json !== undefined, inputs.form !== undefined, inputs.body !== undefined];
  if (given.filter(Boolean).length > 1) throw invalid("give at most one of json, form and body");
  const hasBody = given.some(Boolean);
  if (hasBody && (method === "GET" || method === "HEAD")) throw invalid(`a ${method} request cannot have a body`);

  for (const [k, v] of Object.entries(inputs.query ?? {})) url.searchParams.append(k, String(v));

  const headers = new Headers();
  try {
    for (const [k, v] of Object.entries(inputs.headers ?? {})) headers.set(k, v);
  } catch (err) {
    throw invalid(`headers: ${(err as Error).message}`);
  }
  let body: string | undefined;
  if (inputs.json !== undefined) {
    body = JSON.stringify(inputs.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  } else if (inputs.form !== undefined) {
    body = new URLSearchParams(Object.entries(inputs.form).map(([k, v]) => [k, String(v)])).toString();
    if (!headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded");
  } else if (inputs.body !== undefined) {
    body = inputs.body;
  }

  // Headers that carry credentials: never sent on to another origin by a redirect.
  const credentialHeaders = new Set(["authorization", "proxy-authorization", "cookie"]);
  let secretQuery: { name: string; value: string } | undefined;
  const auth = inputs.auth;
  if (auth?.type === "bearer") {
    headers.set("authorization", `Bearer ${auth.token}`);
  } else if (auth?.type === "basic") {
    headers.set("authorization", `Basic ${Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64")}`);
  } else if (auth?.type === "api_key") {
    if ((auth.in ?? "header") === "query") {
      url.searchParams.set(auth.name, auth.value);
      secretQuery = { name: auth.name, value: auth.value };
    } else {
      try {
        headers.set(auth.name, auth.value);
      } catch (err) {
        throw invalid(`auth.name: ${(err as Error).message}`);
      }
      credentialHeaders.add(auth.name.toLowerCase());
    }
  }

  /** The URL for messages and the output, with a query-string API key masked. */
  const display = (u: URL): string => {
    if (!secretQuery || u.searchParams.get(secretQuery.name) !== secretQuery.value) return u.href;
    const copy = new URL(u.href);
    copy.searchParams.set(secretQuery.name, "***");
    return copy.href;
  };

  const timeoutCtl = new AbortController();
  const timer = setTimeout(
    () => timeoutCtl.abort(new TaskFailure("timeout", `${method} ${display(url)} timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  const signal = AbortSignal.any([ctx.signal, timeoutCtl.signal]);

  let current = url;
  let currentMethod: Method = method;
  let currentBody = body;
  try {
    for (let hops = 0; ; hops++) {
      await guard(current, ctx.settings, signal);
      signal.throwIfAborted();
      const res = await fetch(current, {
        method: currentMethod,
        headers,
        body: currentBody,
        redirect: "manual", // every hop goes through the guard
        signal,
      });
      const location = res.headers.get("location");
      if (follow && isRedirect(res.status) && location !== null) {
        await res.body?.cancel().catch(() => undefined);
        if (hops >= MAX_REDIRECTS) {
          throw new TaskFailure(
            "executor_error",
            `too many redirects (more than ${MAX_REDIRECTS}) from ${method} ${display(url)}`,
          );
        }
        let next: URL;
        try {
          next = new URL(location, current);
        } catch {
          throw new TaskFailure("executor_error", `invalid redirect location ${JSON.stringify(location)} from ${display(current)}`);
        }
        if (next.protocol !== "http:" && next.protocol !== "https:") {
          throw new TaskFailure("executor_error", `refusing redirect from ${display(current)} to a ${next.protocol} URL`);
        }
        if (next.origin !== current.origin) for (const h of credentialHeaders) headers.delete(h);
        if (
          (res.status === 303 && currentMethod !== "HEAD") ||
          ((res.status === 301 || res.status === 302) && currentMethod === "POST")
        ) {
          currentMethod = "GET";
          currentBody = undefined;
          headers.delete("content-type");
        }
        ctx.log(`${res.status} redirect to ${display(next)}`, { status: res.status });
        current = next;
        continue;
      }

      const { bytes, truncated } = await readCapped(res, cap);
      const contentType = res.headers.get("content-type") ?? "";
      const text = new TextDecoder("utf-8").decode(bytes, { stream: truncated });
      const status = res.status;
      const ok = status >= 200 && status <= 299;
      const passes = ok || allowStatus.has(status) || (!follow && isRedirect(status));
      if (!passes) {
        const reason = res.statusText || STATUS_CODES[status] || "";
        throw new TaskFailure(
          "executor_error",
          `HTTP ${status}${reason ? ` ${reason}` : ""} from ${currentMethod} ${display(current)}`,
          { status, body: text.slice(0, ERROR_BODY_CHARS) },
        );
      }

      const wantJson = responseType === "json" || (responseType === "auto" && /[/+]json\b/i.test(contentType));
      let parsed: unknown = text;
      if (wantJson) {
        if (text.trim() === "") {
          parsed = null;
        } else if (truncated) {
          if (responseType === "json") {
            throw new TaskFailure(
              "executor_error",
              `response from ${display(current)} is larger than outputCapBytes (${cap}); cannot parse it as JSON`,
            );
          }
        } else {
          try {
            parsed = JSON.parse(text);
          } catch (err) {
            if (responseType === "json") {
              throw new TaskFailure(
                "executor_error",
                `response from ${display(current)} is not valid JSON: ${(err as Error).message}`,
                { status, body: text.slice(0, ERROR_BODY_CHARS) },
              );
            }
          }
        }
      }

      const result: HttpResult = { status, ok, headers: headerRecord(res.headers), body: parsed, url: display(current) };
      if (truncated) result.truncated = true;
      return result;
    }
  } catch (err) {
    if (timeoutCtl.signal.aborted) throw timeoutCtl.signal.reason as TaskFailure;
    if (ctx.signal.aborted) {
      const reason: unknown = ctx.signal.reason;
      throw reason instanceof TaskFailure ? reason : new TaskFailure("cancelled", `${method} ${display(url)} cancelled`);
    }
    if (err instanceof TaskFailure) throw err;
    throw new TaskFailure("executor_error", `${currentMethod} ${display(current)} failed: ${describeFetchError(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function headerRecord(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((value, key) => {
    const k = key.toLowerCase();
    out[k] = k in out ? `${out[k]}, ${value}` : value;
  });
  return out;
}

/** Reads at most `cap` bytes of the body, then stops reading (the rest is never downloaded). */
async function readCapped(res: Response, cap: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!res.body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.length > cap) {
      chunks.push(value.subarray(0, cap - size));
      size = cap;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  return { bytes: Buffer.concat(chunks, size), truncated };
}

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return err.message;
}
