// A real HTTP server speaking the OpenAI chat-completions wire format (DESIGN §9: "tests run
// against a local OpenAI-compatible fake server speaking the real wire format"). It is the
// sanctioned stand-in for a model: the code under test talks to it through the real provider
// packages over a real socket, so request shape, SSE parsing, retries and aborts are exercised.
//
//   const fake = await startFakeOpenAI((req) => req.toolResults.length === 0
//     ? { tool_calls: [{ name: "run_command", arguments: { command: "ls" } }] }
//     : { tool_calls: [{ name: "final_answer", arguments: { ok: true } }] });
//   // GROVE_MODEL=openai-compatible:fake GROVE_OPENAI_COMPATIBLE_BASE_URL=fake.url
//   await fake.close();
//
// A script is a list of replies (one per request, in order; the last one repeats) or a function
// of the request. A reply with `status` answers with that HTTP error instead (429/500 to exercise
// retries); `fail(status, times)` makes the next N requests fail before the script is consulted.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object (sent as JSON) or a raw string (sent as is, e.g. to send malformed JSON). */
  arguments: unknown;
}

export interface FakeReply {
  content?: string;
  /** Sent as `reasoning_content` (what OpenAI-compatible servers use for thinking). */
  reasoning?: string;
  tool_calls?: FakeToolCall[];
  finish_reason?: "stop" | "tool_calls" | "length";
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Answer with this HTTP error status instead of a completion. */
  status?: number;
  /** The error body's message (with `status`). */
  error?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (the wait ends early when the client goes away). */
  delayMs?: number;
}

export interface FakeRequest {
  /** 0-based index of this request among all received. */
  index: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  stream: boolean;
  messages: any[];
  /** Names of the tools offered. */
  tools: string[];
  /** The `role: "tool"` messages, in order, with `content` as a string. */
  toolResults: { tool_call_id: string; content: string }[];
  /** The last message's text content (tool result or user message). */
  last: string;
}

export type FakeScript = FakeReply[] | ((req: FakeRequest) => FakeReply | Promise<FakeReply>);

export interface FakeOpenAI {
  /** Base URL including `/v1` (what OPENAI_BASE_URL / baseURL take). */
  url: string;
  port: number;
  /** Every request received, errors included. */
  requests: FakeRequest[];
  /** Requests that got a completion (not an injected error). */
  completions(): FakeRequest[];
  setScript(script: FakeScript): void;
  /** The next `times` requests get `status` (with `headers`, e.g. retry-after-ms). */
  fail(status: number, times: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

const DEFAULT_USAGE = { prompt_tokens: 10, completion_tokens: 5 };

export async function startFakeOpenAI(script: FakeScript = []): Promise<FakeOpenAI> {
  let current = script;
  let scriptIndex = 0;
  const failures: { status: number; headers: Record<string, string> }[] = [];
  const requests: FakeRequest[] = [];
  const answered = new Set<FakeRequest>();
  let callSeq = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String(err?.message ?? err), type: "fake_error" } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    const body = JSON.parse(raw || "{}");
    const messages: any[] = Array.isArray(body.messages) ? body.messages : [];
    const text = (c: unknown) => (typeof c === "string" ? c : Array.isArray(c) ? c.map((p: any) => p?.text ?? "").join("") : "");
    const request: FakeRequest = {
      index: requests.length,
      path: req.url,
      headers: req.headers,
      body,
      stream: body.stream === true,
      messages,
      tools: (body.tools ?? []).map((t: any) => t?.function?.name),
      toolResults: messages.filter((m) => m.role === "tool").map((m) => ({ tool_call_id: m.tool_call_id, content: text(m.content) })),
      last: text(messages[messages.length - 1]?.content),
    };
    requests.push(request);

    const failure = failures.shift();
    if (failure) return sendError(res, failure.status, `injected ${failure.status}`, failure.headers);
    let reply: FakeReply;
    if (typeof current === "function") reply = await current(request);
    else {
      if (current.length === 0) throw new Error("fake-openai: empty script");
      reply = current[Math.min(scriptIndex, current.length - 1)];
      scriptIndex++;
    }
    if (reply.delayMs) {
      const gone = await waitOrClose(req, res, reply.delayMs);
      if (gone) return;
    }
    if (reply.status) return sendError(res, reply.status, reply.error ?? `scripted ${reply.status}`, reply.headers ?? {});
    answered.add(request);
    const calls = (reply.tool_calls ?? []).map((c) => ({
      id: c.id ?? `call_${++callSeq}`,
      type: "function" as const,
      function: { name: c.name, arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments ?? {}) },
    }));
    const finish = reply.finish_reason ?? (calls.length > 0 ? "tool_calls" : "stop");
    const u = reply.usage ?? DEFAULT_USAGE;
    const usage = { ...u, total_tokens: u.prompt_tokens + u.completion_tokens };
    const id = `chatcmpl-${request.index}`;
    const created = Math.floor(Date.now() / 1000);
    const model = String(body.model ?? "fake");
    if (!request.stream) {
      const message: Record<string, unknown> = { role: "assistant", content: reply.content ?? (calls.length > 0 ? null : "") };
      if (calls.length > 0) message.tool_calls = calls;
      if (reply.reasoning) message.reasoning_content = reply.reasoning;
      res.writeHead(200, { "content-type": "application/json", ...reply.headers });
      res.end(JSON.stringify({ id, object: "chat.completion", created, model, choices: [{ index: 0, message, finish_reason: finish }], usage }));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", ...reply.headers });
    const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) =>
      res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason }] })}\n\n`);
    chunk({ role: "assistant", content: "" });
    if (reply.reasoning) for (const piece of split(reply.reasoning)) chunk({ reasoning_content: piece });
    if (reply.content) for (const piece of split(reply.content)) chunk({ content: piece });
    calls.forEach((c, index) => {
      // The arguments arrive in fragments, as real servers send them.
      chunk({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.function.name, arguments: "" } }] });
      for (const piece of split(c.function.arguments)) chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
    });
    chunk({}, finish);
    res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`);
    res.end("data: [DONE]\n\n");
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    completions: () => requests.filter((r) => answered.has(r)),
    setScript(s) {
      current = s;
      scriptIndex = 0;
    },
    fail(status, times, headers = {}) {
      for (let i = 0; i < times; i++) failures.push({ status, headers });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A reply that calls one tool. */
export function callTool(name: string, args: unknown, extra: Partial<FakeReply> = {}): FakeReply {
  return { ...extra, tool_calls: [{ name, arguments: args }] };
}

function split(s: string): string[] {
  if (s.length < 8) return [s];
  const mid = Math.floor(s.length / 2);
  return [s.slice(0, mid), s.slice(mid)];
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string>): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ error: { message, type: status === 429 ? "rate_limit_exceeded" : "server_error", code: null } }));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (d) => (data += d));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}

/** Resolves true when the client went away before `ms` passed. */
function waitOrClose(req: IncomingMessage, res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      res.off("close", onClose);
      resolve(false);
    }, ms);
    const onClose = () => {
      clearTimeout(t);
      resolve(true);
    };
    res.once("close", onClose);
    void req;
  });
}
