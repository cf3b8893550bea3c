import { z } from "zod";
import { defineExecutor, type ExecutorContext } from "../core/executor.js";
import { TaskFailure } from "../core/errors.js";
import { abortFailure, BACKSTOP_MS, deadline, errorText, publicLookup } from "./net-target.js";
import { assertPublicUrl } from "./net-guard.js";

const Message = z
  .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown()), z.number(), z.boolean(), z.null()])
  .describe("A string is sent as is; any other JSON value is sent as its JSON text");

export const WebSocketInput = z.strictObject({
  url: z
    .string()
    .regex(/^[Ww][Ss][Ss]?:\/\//, "must be a ws:// or wss:// URL")
    .describe("ws:// or wss:// URL"),
  message: Message.optional().describe("One message to send once connected (a string as is, other JSON as JSON text)"),
  messages: z.array(Message).optional().describe("Several messages, sent in order (instead of message)"),
  wait_response: z
    .union([z.boolean(), z.number().int().min(0)])
    .default(true)
    .describe("true: one response per message sent (at least one); a number: that many; false: none"),
  headers: z.record(z.string(), z.string()).optional().describe("Headers of the opening handshake"),
  protocols: z.array(z.string().min(1)).optional().describe("Subprotocols offered in the handshake"),
  parse_json: z.boolean().default(true).describe("Return text frames that are valid JSON as parsed values"),
  timeout_ms: z.number().int().positive().default(30_000).describe("Limit for connecting, sending and receiving"),
});

export const WebSocketOutput = z.object({
  responses: z.array(z.unknown()).describe("Frames received, in order; a binary frame as {base64}"),
  sent: z.number().int().describe("Messages sent"),
  url: z.string(),
  protocol: z.string().describe("The subprotocol the server chose, or \"\""),
});

export type WebSocketInputs = z.output<typeof WebSocketInput>;
export type WebSocketResult = z.infer<typeof WebSocketOutput>;

export const websocket = defineExecutor({
  id: "websocket",
  name: "WebSocket",
  description:
    "Connects to a ws:// or wss:// URL, sends message(s), and collects responses " +
    "(wait_response: true = one per message, a number = that many, false = none). " +
    "Private and link-local addresses are refused unless allowPrivateNetwork is set.",
  input: WebSocketInput,
  output: WebSocketOutput,
  cancelable: true,
  execute: (inputs, ctx) => exchange(inputs, ctx),
});

async function exchange(inputs: WebSocketInputs, ctx: ExecutorContext): Promise<WebSocketResult> {
  if (inputs.message !== undefined && inputs.messages !== undefined) {
    throw new TaskFailure("validation_error", "give message or messages, not both");
  }
  let url: URL;
  try {
    url = new URL(inputs.url);
  } catch {
    throw new TaskFailure("validation_error", `url ${JSON.stringify(inputs.url)} is not a valid URL`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new TaskFailure("validation_error", `url must be ws:// or wss://, got ${url.protocol}`);
  }
  const outgoing = inputs.messages ?? (inputs.message !== undefined ? [inputs.message] : []);
  const wait = inputs.wait_response ?? true;
  const expected = wait === true ? Math.max(1, outgoing.length) : wait === false ? 0 : wait;
  const parseJson = inputs.parse_json ?? true;
  const timeoutMs = inputs.timeout_ms ?? 30_000;
  const shown = url.href.replace(/\/\/[^@/]*@/, "//"); // never echo credentials in the userinfo

  const { signal, done } = deadline(ctx.signal, timeoutMs, `websocket ${shown}`);
  try {
    await assertPublicUrl(url, ctx.settings, signal);
    signal.throwIfAborted();
    const { WebSocket } = await import("ws");
    return await new Promise<WebSocketResult>((resolve, reject) => {
      const responses: unknown[] = [];
      let sent = 0;
      const ws = new WebSocket(url, inputs.protocols ?? [], {
        headers: inputs.headers,
        handshakeTimeout: timeoutMs + BACKSTOP_MS, // our deadline reports the timeout; this is a backstop
        maxPayload: Math.max(1024, ctx.settings.outputCapBytes), // one huge frame cannot exhaust memory
        followRedirects: false, // a redirect could lead past the guard
        lookup: publicLookup(ctx.settings) as never, // vet the addresses the socket really uses
      });
      let settled = false;
      const finish = (err: TaskFailure | null) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        if (ws.readyState === ws.OPEN) ws.close(1000);
        else ws.terminate();
        if (err) reject(err);
        else resolve({ responses, sent, url: shown, protocol: ws.protocol });
      };
      const onAbort = () => {
        const failure = abortFailure(signal, `websocket ${shown}`);
        finish(new TaskFailure(failure.type, `${failure.message} (${responses.length} of ${expected} responses received)`, { responses }));
      };
      signal.addEventListener("abort", onAbort, { once: true });

      ws.on("open", () => {
        ctx.log(`connected to ${shown}`);
        try {
          for (const m of outgoing) {
            ws.send(typeof m === "string" ? m : JSON.stringify(m));
            sent++;
          }
        } catch (err) {
          finish(new TaskFailure("executor_error", `websocket ${shown}: send failed: ${errorText(err)}`));
          return;
        }
        if (expected === 0) finish(null);
      });
      ws.on("message", (data, isBinary) => {
        if (settled) return;
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        responses.push(isBinary ? { base64: buf.toString("base64") } : decode(buf.toString("utf8"), parseJson));
        ctx.progress(responses.length / expected);
        if (responses.length >= expected) finish(null);
      });
      ws.on("unexpected-response", (_req, res) => {
        finish(new TaskFailure("executor_error", `websocket ${shown}: handshake refused with HTTP ${res.statusCode ?? "?"}`, { status: res.statusCode }));
      });
      ws.on("error", (err) => {
        finish(new TaskFailure("executor_error", `websocket ${shown} failed: ${errorText(err)}`));
      });
      ws.on("close", (code, reason) => {
        if (settled) return;
        const why = reason.toString("utf8");
        finish(
          new TaskFailure(
            "executor_error",
            `websocket ${shown} closed by the server (code ${code}${why ? `: ${why}` : ""}) after ${responses.length} of ${expected} responses`,
            { responses, code },
          ),
        );
      });
    });
  } catch (err) {
    if (signal.aborted && !(err instanceof TaskFailure)) throw abortFailure(signal, `websocket ${shown}`);
    throw err;
  } finally {
    done();
  }
}

function decode(text: string, parseJson: boolean): unknown {
  if (!parseJson) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
