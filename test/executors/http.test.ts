import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { http, makeHttpExecutor, type HttpResult } from "../../src/executors/http.js";
import { assertPublicUrl, isPublicAddress } from "../../src/executors/net-guard.js";
import { TaskFailure } from "../../src/core/errors.js";
import { validate } from "../../src/core/validation.js";
import type { Executor, ExecutorContext } from "../../src/core/executor.js";

function makeCtx(opts: { allowPrivateNetwork?: boolean; outputCapBytes?: number; controller?: AbortController } = {}) {
  const controller = opts.controller ?? new AbortController();
  const logs: { message: string; data?: Record<string, unknown> }[] = [];
  const ctx: ExecutorContext = {
    signal: controller.signal,
    log: (message, data) => void logs.push({ message, data }),
    progress: () => undefined,
    dependencies: {},
    attempt: 1,
    idempotencyKey: "tree-1:task-1",
    task: { id: "task-1", name: "req", tree_id: "tree-1", owner: "test", executor: "http" },
    tree: { id: "tree-1", name: "t", inputs: {} },
    machine: "local",
    settings: {
      allowPrivateNetwork: opts.allowPrivateNetwork ?? true,
      outputCapBytes: opts.outputCapBytes ?? 1024 * 1024,
    },
  };
  return { ctx, logs, controller };
}

async function run(inputs: Record<string, unknown>, ctx: ExecutorContext, ex: Executor = http): Promise<HttpResult> {
  const v = validate(ex.inputSchema, inputs);
  if (!v.ok) throw new Error(`invalid inputs: ${JSON.stringify(v.issues)}`);
  return (await ex.run(v.value, ctx)) as HttpResult;
}

async function failureOf(p: Promise<unknown>): Promise<TaskFailure> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TaskFailure);
    return err as TaskFailure;
  }
  throw new Error("expected the request to fail");
}

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let server: Server;
let base: string;
let port: number;
const seen: Seen[] = [];

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const u = new URL(req.url ?? "/", "http://x");
  const parts = u.pathname.split("/").filter(Boolean);
  const echo = () => {
    res.writeHead(200, { "content-type": "application/json", "x-custom": "yes" });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  };
  switch (parts[0]) {
    case "echo":
      return echo();
    case "status": {
      const code = Number(parts[1]);
      res.writeHead(code, { "content-type": "text/plain" });
      res.end(code === 204 ? undefined : `status body ${code}`);
      return;
    }
    case "text":
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.end('{"looks":"like json"}');
      return;
    case "badjson":
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{not json");
      return;
    case "big":
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("0123456789".repeat(100));
      return;
    case "slow":
      setTimeout(() => {
        if (!res.writableEnded) res.end("late");
      }, 10_000).unref();
      return;
    case "redirect": {
      // /redirect/<n>[/<code>]: n hops, then /echo
      const n = Number(parts[1]);
      const code = Number(parts[2] ?? 302);
      const next = n <= 1 ? "/echo" : `/redirect/${n - 1}/${code}`;
      res.writeHead(code, { location: next });
      res.end();
      return;
    }
    case "redirect-to":
      res.writeHead(302, { location: u.searchParams.get("url") ?? "/echo" });
      res.end();
      return;
    default:
      res.writeHead(404);
      res.end("not found");
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

describe("http executor: schema", () => {
  it("applies defaults and rejects bad inputs", () => {
    const v = validate(http.inputSchema, { url: "https://example.com" });
    expect(v.ok).toBe(true);
    if (v.ok) {
      expect(v.value).toEqual({
        url: "https://example.com",
        method: "GET",
        timeout_ms: 30000,
        allow_status: [],
        follow_redirects: true,
        response_type: "auto",
      });
    }
    expect(validate(http.inputSchema, { url: "ftp://example.com" }).ok).toBe(false);
    expect(validate(http.inputSchema, { url: "https://x", method: "TRACE" }).ok).toBe(false);
    expect(validate(http.inputSchema, { url: "https://x", auth: { type: "bearer" } }).ok).toBe(false);
    expect(validate(http.inputSchema, { url: "https://x", auth: { type: "api_key", name: "k", value: "v" } }).ok).toBe(true);
    expect(validate(http.inputSchema, { url: "https://x", retries: 3 }).ok).toBe(false);
  });

  it("refuses more than one body and a body on GET", async () => {
    let f = await failureOf(run({ url: `${base}/echo`, method: "POST", json: {}, body: "x" }, makeCtx().ctx));
    expect(f.type).toBe("validation_error");
    expect(f.message).toMatch(/at most one of json, form and body/);
    f = await failureOf(run({ url: `${base}/echo`, body: "x" }, makeCtx().ctx));
    expect(f.type).toBe("validation_error");
  });
});

describe("http executor: requests", () => {
  it("GETs with query parameters appended", async () => {
    const out = await run({ url: `${base}/echo?z=0`, query: { a: 1, b: true, c: "x y" } }, makeCtx().ctx);
    expect(out.status).toBe(200);
    expect(out.ok).toBe(true);
    expect(out.headers["x-custom"]).toBe("yes");
    expect(out.headers["content-type"]).toBe("application/json");
    const echo = out.body as Echo;
    expect(echo.method).toBe("GET");
    expect(echo.url).toBe("/echo?z=0&a=1&b=true&c=x+y");
    expect(out.url).toBe(`${base}/echo?z=0&a=1&b=true&c=x+y`);
  });

  it("POSTs json", async () => {
    const out = await run({ url: `${base}/echo`, method: "POST", json: { n: 1, list: ["a"] } }, makeCtx().ctx);
    const echo = out.body as Echo;
    expect(echo.method).toBe("POST");
    expect(echo.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(echo.body)).toEqual({ n: 1, list: ["a"] });
  });

  it("sends a form body and a raw body", async () => {
    let out = await run({ url: `${base}/echo`, method: "PUT", form: { a: 1, b: "two words" } }, makeCtx().ctx);
    let echo = out.body as Echo;
    expect(echo.method).toBe("PUT");
    expect(echo.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(echo.body).toBe("a=1&b=two+words");
    out = await run(
      { url: `${base}/echo`, method: "PATCH", body: "raw!", headers: { "Content-Type": "text/x-custom" } },
      makeCtx().ctx,
    );
    echo = out.body as Echo;
    expect(echo.body).toBe("raw!");
    expect(echo.headers["content-type"]).toBe("text/x-custom");
  });

  it("sends bearer, basic and api_key credentials", async () => {
    let echo = (await run({ url: `${base}/echo`, auth: { type: "bearer", token: "tok123" } }, makeCtx().ctx)).body as Echo;
    expect(echo.headers.authorization).toBe("Bearer tok123");

    echo = (await run({ url: `${base}/echo`, auth: { type: "basic", username: "ann", password: "s3:cret" } }, makeCtx().ctx))
      .body as Echo;
    expect(echo.headers.authorization).toBe(`Basic ${Buffer.from("ann:s3:cret").toString("base64")}`);

    echo = (await run({ url: `${base}/echo`, auth: { type: "api_key", name: "X-Api-Key", value: "k1" } }, makeCtx().ctx))
      .body as Echo;
    expect(echo.headers["x-api-key"]).toBe("k1");

    const out = await run(
      { url: `${base}/echo`, auth: { type: "api_key", name: "key", value: "k2", in: "query" } },
      makeCtx().ctx,
    );
    expect((out.body as Echo).url).toBe("/echo?key=k2");
    expect(out.url).toBe(`${base}/echo?key=***`); // the key is not copied into the result
  });

  it("fails on a non-2xx status with the body in details", async () => {
    const f = await failureOf(run({ url: `${base}/status/500` }, makeCtx().ctx));
    expect(f.type).toBe("executor_error");
    expect(f.message).toBe(`HTTP 500 Internal Server Error from GET ${base}/status/500`);
    expect(f.details).toEqual({ status: 500, body: "status body 500" });
  });

  it("returns a status listed in allow_status", async () => {
    const out = await run({ url: `${base}/status/404`, allow_status: [404] }, makeCtx().ctx);
    expect(out).toMatchObject({ status: 404, ok: false, body: "status body 404" });
    const f = await failureOf(run({ url: `${base}/status/404`, allow_status: [410] }, makeCtx().ctx));
    expect(f.message).toMatch(/^HTTP 404 Not Found/);
  });

  it("handles response types", async () => {
    expect((await run({ url: `${base}/text` }, makeCtx().ctx)).body).toBe('{"looks":"like json"}');
    expect((await run({ url: `${base}/text`, response_type: "json" }, makeCtx().ctx)).body).toEqual({ looks: "like json" });
    expect((await run({ url: `${base}/echo`, response_type: "text" }, makeCtx().ctx)).body).toMatch(/^\{"method":"GET"/);
    expect((await run({ url: `${base}/badjson` }, makeCtx().ctx)).body).toBe("{not json");
    const f = await failureOf(run({ url: `${base}/badjson`, response_type: "json" }, makeCtx().ctx));
    expect(f.message).toMatch(/not valid JSON/);
    const head = await run({ url: `${base}/echo`, method: "HEAD" }, makeCtx().ctx);
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    expect((await run({ url: `${base}/status/204` }, makeCtx().ctx)).body).toBe("");
  });

  it("truncates a body over outputCapBytes", async () => {
    const out = await run({ url: `${base}/big` }, makeCtx({ outputCapBytes: 25 }).ctx);
    expect(out.body).toBe("0123456789012345678901234");
    expect(out.truncated).toBe(true);
    const full = await run({ url: `${base}/big` }, makeCtx({ outputCapBytes: 1000 }).ctx);
    expect((full.body as string).length).toBe(1000);
    expect(full.truncated).toBeUndefined();
  });

  it("times out", async () => {
    const started = Date.now();
    const f = await failureOf(run({ url: `${base}/slow`, timeout_ms: 300 }, makeCtx().ctx));
    expect(f.type).toBe("timeout");
    expect(f.message).toBe(`GET ${base}/slow timed out after 300 ms`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("stops when ctx.signal aborts, with the engine's reason", async () => {
    const { ctx, controller } = makeCtx();
    const reason = new TaskFailure("cancelled", "tree cancelled");
    setTimeout(() => controller.abort(reason), 200);
    const started = Date.now();
    const f = await failureOf(run({ url: `${base}/slow` }, ctx));
    expect(f).toBe(reason);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("reports a connection failure", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const f = await failureOf(run({ url: `http://127.0.0.1:${closedPort}/` }, makeCtx().ctx));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/ECONNREFUSED/);
  });
});

describe("http executor: redirects", () => {
  it("follows up to 5 redirects and reports the final URL", async () => {
    const out = await run({ url: `${base}/redirect/5` }, makeCtx().ctx);
    expect(out.status).toBe(200);
    expect(out.url).toBe(`${base}/echo`);
    const f = await failureOf(run({ url: `${base}/redirect/6` }, makeCtx().ctx));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/too many redirects/);
  });

  it("returns the redirect itself when follow_redirects is false", async () => {
    const out = await run({ url: `${base}/redirect/1`, follow_redirects: false }, makeCtx().ctx);
    expect(out.status).toBe(302);
    expect(out.headers.location).toBe("/echo");
  });

  it("turns POST into GET on 303 and keeps method and body on 307", async () => {
    let echo = (await run({ url: `${base}/redirect/1/303`, method: "POST", json: { a: 1 } }, makeCtx().ctx)).body as Echo;
    expect(echo.method).toBe("GET");
    expect(echo.body).toBe("");
    echo = (await run({ url: `${base}/redirect/1/307`, method: "POST", json: { a: 1 } }, makeCtx().ctx)).body as Echo;
    expect(echo.method).toBe("POST");
    expect(echo.body).toBe('{"a":1}');
  });

  it("drops credentials on a redirect to another origin", async () => {
    const target = encodeURIComponent(`http://localhost:${port}/echo`);
    const echo = (
      await run(
        { url: `${base}/redirect-to?url=${target}`, auth: { type: "bearer", token: "secret" }, headers: { "x-keep": "1" } },
        makeCtx().ctx,
      )
    ).body as Echo;
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers["x-keep"]).toBe("1");
    const same = (await run({ url: `${base}/redirect/1`, auth: { type: "bearer", token: "secret" } }, makeCtx().ctx))
      .body as Echo;
    expect(same.headers.authorization).toBe("Bearer secret");
  });

  it("checks every redirect target with the guard", async () => {
    const checked: string[] = [];
    const guarded = makeHttpExecutor({
      assertUrl: async (url) => {
        checked.push(url.href);
        if (url.hostname === "localhost") throw new TaskFailure("executor_error", `refusing ${url.href}`);
      },
    });
    const ok = await run({ url: `${base}/redirect/2` }, makeCtx().ctx, guarded);
    expect(ok.status).toBe(200);
    expect(checked).toEqual([`${base}/redirect/2`, `${base}/redirect/1/302`, `${base}/echo`]);

    const before = seen.length;
    const target = encodeURIComponent(`http://localhost:${port}/echo`);
    const f = await failureOf(run({ url: `${base}/redirect-to?url=${target}` }, makeCtx().ctx, guarded));
    expect(f.message).toBe(`refusing http://localhost:${port}/echo`);
    expect(seen.slice(before).map((s) => s.url)).toEqual([`/redirect-to?url=${target}`]); // never reached /echo
  });

  it("refuses a redirect to a non-http URL", async () => {
    const f = await failureOf(run({ url: `${base}/redirect-to?url=${encodeURIComponent("file:///etc/passwd")}` }, makeCtx().ctx));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/file: URL/);
  });
});

describe("private-address guard", () => {
  it("classifies addresses", () => {
    expect(isPublicAddress("8.8.8.8")).toBe(true);
    expect(isPublicAddress("2606:4700:4700::1111")).toBe(true);
    for (const ip of [
      "127.0.0.1",
      "10.0.0.1",
      "172.16.5.4",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "255.255.255.255",
      "224.0.0.1",
      "::1",
      "::",
      "fe80::1",
      "fc00::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "64:ff9b::7f00:1",
      "2002:7f00:1::",
      "not an ip",
    ]) {
      expect([ip, isPublicAddress(ip)]).toEqual([ip, false]);
    }
  });

  it("refuses private and loopback targets before any request is made", async () => {
    const cases: [string, RegExp][] = [
      [`${base}/echo`, /127\.0\.0\.1 is a loopback address/],
      ["http://10.0.0.1/", /10\.0\.0\.1 is a private address/],
      [`http://[::1]:${port}/echo`, /::1 is a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/echo`, /is a loopback address/],
      ["http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is a link-local address/],
      [`http://localhost:${port}/echo`, /localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/],
      [`http://2130706433:${port}/echo`, /127\.0\.0\.1 is a loopback address/], // decimal form of 127.0.0.1
    ];
    const before = seen.length;
    for (const [url, re] of cases) {
      const f = await failureOf(run({ url }, makeCtx({ allowPrivateNetwork: false }).ctx));
      expect(f.type).toBe("executor_error");
      expect(f.message).toMatch(/^refusing http:\/\//);
      expect(f.message).toMatch(re);
      expect(f.message).toContain("GROVE_ALLOW_PRIVATE_NETWORK=1");
    }
    expect(seen.length).toBe(before);
  });

  it("uses the exact message shape", async () => {
    const f = await failureOf(assertPublicUrl(new URL("http://127.0.0.1:8080/"), { allowPrivateNetwork: false }));
    expect(f.message).toBe(
      "refusing http://127.0.0.1:8080/: 127.0.0.1 is a loopback address (set allowPrivateNetwork / GROVE_ALLOW_PRIVATE_NETWORK=1 to allow)",
    );
  });

  it("allows public literals and everything when allowPrivateNetwork is set", async () => {
    await expect(assertPublicUrl(new URL("http://8.8.8.8/"), { allowPrivateNetwork: false })).resolves.toBeUndefined();
    await expect(assertPublicUrl(new URL("http://[2606:4700:4700::1111]/"), { allowPrivateNetwork: false })).resolves.toBeUndefined();
    await expect(assertPublicUrl(new URL("http://127.0.0.1/"), { allowPrivateNetwork: true })).resolves.toBeUndefined();
    await expect(
      assertPublicUrl(new URL("http://no-such-host.invalid/"), { allowPrivateNetwork: true }),
    ).resolves.toBeUndefined();
  });

  it("fails cleanly on a name that does not resolve", async () => {
    const f = await failureOf(assertPublicUrl(new URL("http://no-such-host.invalid/"), { allowPrivateNetwork: false }));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/^cannot resolve no-such-host\.invalid/);
  });
});
