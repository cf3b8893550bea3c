// JWT credentials (HS256 and RS256, scope from a claim) and signed schedule webhooks
// (HMAC-SHA256 over timestamp + "." + body, 5-minute window, replays refused), and outbound
// event webhooks delivered signed to a real HTTP receiver.
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RPC } from "../../src/server/errors.js";
import { sign, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../../src/server/hooks/signature.js";
import { echoTree, ok, post, rpc, startServer, type TestServer } from "./helpers.js";

const SECRET = "a-test-secret-of-some-length-0123456789";

describe("JWT", () => {
  let s: TestServer;
  let privateKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    privateKey = pair.privateKey as CryptoKey;
    s = await startServer({ jwt: { secret: SECRET, publicKeyPem: await exportSPKI(pair.publicKey as CryptoKey), audience: "grove" } });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  const hs = (claims: Record<string, unknown>, secret = SECRET, exp = "5m") =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject("ci").setAudience("grove").setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(secret));

  it("HS256: the scope comes from the grove_scope claim", async () => {
    const a = await hs({ grove_scope: "acme/a" });
    const b = await hs({ grove_scope: "acme/b" });
    const tree = await ok(s.url, a, "tasks.execute", { tree: echoTree() });
    expect(tree.status).toBe("completed");
    expect((await ok(s.url, a, "tasks.get", { id: tree.tasks[0].id })).owner).toBe("acme/a");
    expect((await rpc(s.url, b, "tasks.get", { id: tree.tasks[0].id })).body.error.code).toBe(RPC.NOT_FOUND);
  });

  it("RS256 tokens verify with the public key", async () => {
    const token = await new SignJWT({ grove_scope: "acme/rs" }).setProtectedHeader({ alg: "RS256" }).setAudience("grove").setExpirationTime("5m").sign(privateKey);
    const tree = await ok(s.url, token, "tasks.execute", { tree: echoTree() });
    expect((await ok(s.url, token, "tasks.get", { id: tree.tasks[0].id })).owner).toBe("acme/rs");
  });

  it("bad signature, expired, wrong audience, alg none, missing claim: 401", async () => {
    const bad = [
      await hs({ grove_scope: "acme/a" }, "another-secret-that-is-long-enough"),
      await hs({ grove_scope: "acme/a" }, SECRET, "-1m"),
      await new SignJWT({ grove_scope: "acme/a" }).setProtectedHeader({ alg: "HS256" }).setAudience("other").setExpirationTime("5m").sign(new TextEncoder().encode(SECRET)),
      `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"grove_scope":"acme/a","aud":"grove"}').toString("base64url")}.`,
      await hs({ other: "acme/a" }),
      await hs({ grove_scope: "" }),
    ];
    for (const token of bad) {
      const r = await rpc(s.url, token, "tasks.list", {});
      expect(r.status, token).toBe(401);
      expect(r.body.error.code).toBe(RPC.UNAUTHORIZED);
      expect(JSON.stringify(r.body)).not.toContain(SECRET);
    }
  });
});

describe("schedule webhooks", () => {
  let s: TestServer;
  let key: string;
  let secret: string;
  beforeAll(async () => {
    s = await startServer();
    key = await s.key("acme/hooks");
    await ok(s.url, key, "schedules.add", { name: "deploy", every: "1d", start_at: "2999-01-01T00:00:00Z", tree: echoTree("deploy", "deployed") });
    const hook = await ok(s.url, key, "schedules.webhook", { name: "deploy" });
    expect(hook.path).toBe("/hooks/schedules/deploy");
    expect(hook.signature_header).toBe(SIGNATURE_HEADER);
    secret = hook.secret;
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  const signed = (body: string, ts = Math.floor(Date.now() / 1000), key = secret) => ({ [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: sign(key, ts, body) });

  it("a good signature fires the schedule as its owner, and the run is logged", async () => {
    const body = JSON.stringify({ ref: "main" });
    const r = await post(`${s.url}/hooks/schedules/deploy?wait=true`, body, signed(body));
    expect(r.status).toBe(200);
    expect(r.body.runs).toHaveLength(1);
    expect(r.body.runs[0]).toMatchObject({ schedule: "deploy", owner: "acme/hooks", status: "succeeded", success: true });
    const logs = await ok(s.url, key, "schedules.logs", { name: "deploy" });
    expect(logs).toHaveLength(1);
    expect(logs[0].status).toBe("succeeded");
    const show = await ok(s.url, key, "schedules.show", { name: "deploy" });
    expect(show.run_count).toBe(1);
    expect(show.next_due_at).toBe("2999-01-01T00:00:00.000Z");
  });

  it("bad signatures, wrong secret, stale or missing timestamps: 401, nothing fired", async () => {
    const body = "{}";
    const now = Math.floor(Date.now() / 1000);
    const cases: Record<string, string>[] = [
      {},
      { [TIMESTAMP_HEADER]: String(now) },
      { [TIMESTAMP_HEADER]: String(now), [SIGNATURE_HEADER]: "sha256=00" },
      signed(body, now, "whsec_wrong"),
      signed(body, now - 301),
      signed(body, now + 301),
      { [TIMESTAMP_HEADER]: "soon", [SIGNATURE_HEADER]: sign(secret, "soon", body) },
      signed("{} ", now), // signed a different body
    ];
    for (const headers of cases) {
      const r = await post(`${s.url}/hooks/schedules/deploy`, body, headers);
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(JSON.stringify(r.body)).not.toContain(secret);
    }
    const r = await post(`${s.url}/hooks/schedules/nope`, body, signed(body));
    expect(r.status).toBe(401);
    expect((await ok(s.url, key, "schedules.show", { name: "deploy" })).run_count).toBe(1);
  });

  it("a replayed request is refused (409)", async () => {
    const body = JSON.stringify({ n: 2 });
    const headers = signed(body);
    expect((await post(`${s.url}/hooks/schedules/deploy`, body, headers)).status).toBe(202);
    const again = await post(`${s.url}/hooks/schedules/deploy`, body, headers);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe(RPC.CONFLICT);
  });

  it("rotating the secret retires the old one", async () => {
    const old = secret;
    const hook = await ok(s.url, key, "schedules.webhook", { name: "deploy", rotate: true });
    expect(hook.secret).not.toBe(old);
    const body = "{}";
    expect((await post(`${s.url}/hooks/schedules/deploy`, body, signed(body, undefined, old))).status).toBe(401);
    secret = hook.secret;
    expect((await post(`${s.url}/hooks/schedules/deploy`, body, signed(body))).status).toBe(202);
  });
});

describe("outbound event webhooks", () => {
  it("matching events are POSTed, signed, in order; a private address is refused unless allowed", async () => {
    const received: { headers: IncomingMessage["headers"]; body: string }[] = [];
    const paths: string[] = [];
    const receiver = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        paths.push(req.url ?? "");
        if (req.url !== "/events") return void res.end();
        // The first delivery fails (503), to exercise the retry.
        received.push({ headers: req.headers, body });
        res.statusCode = received.length === 1 ? 503 : 200;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const port = (receiver.address() as { port: number }).port;
    const hookSecret = "outbound-secret-0123456789";
    const reports: unknown[] = [];
    const s = await startServer({ onWebhookDelivery: (r) => reports.push(r), eventWebhooks: [{ url: `http://127.0.0.1:${port}/events`, secret: hookSecret, events: ["tree.*", "task.completed"], baseDelayMs: 50 }] });
    const guarded = await startServer({
      eventWebhooks: [{ url: `http://127.0.0.1:${port}/guarded`, secret: hookSecret, baseDelayMs: 10 }],
      settings: { ...s.server.services.settings, allowPrivateNetwork: false },
    });
    try {
      const key = await s.key("acme/out");
      await ok(s.url, key, "tasks.execute", { tree: echoTree() });
      await ok(guarded.url, await guarded.key("acme/out"), "tasks.execute", { tree: echoTree() });
      const deadline = Date.now() + 20_000;
      while (received.filter((r) => r.headers["x-grove-event"] === "tree.completed").length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const ok200 = received.slice(1);
      expect(reports.length, JSON.stringify({ reports, paths })).toBeGreaterThan(0);
      expect(ok200.map((r) => r.headers["x-grove-event"])).toEqual(["task.completed", "tree.completed"]);
      expect(received[0]!.headers["x-grove-delivery"]).toBe(received[1]!.headers["x-grove-delivery"]); // the retry of the 503
      for (const r of received) {
        const ts = String(r.headers[TIMESTAMP_HEADER]);
        expect(r.headers[SIGNATURE_HEADER]).toBe(sign(hookSecret, ts, r.body));
        expect(JSON.parse(r.body).tree_id).toBeTruthy();
      }
      expect(received.some((r) => r.headers["x-grove-event"] === undefined)).toBe(false);
      // The guarded server never reached the loopback receiver.
      expect(paths.filter((p) => p !== "/events")).toEqual([]);
    } finally {
      await s.close();
      await guarded.close();
      await new Promise((r) => receiver.close(r));
    }
  }, 60_000);
});
