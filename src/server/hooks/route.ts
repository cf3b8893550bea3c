// POST /hooks/schedules/:name — fires a schedule when the request is signed with that schedule's
// webhook secret (see signature.ts for the scheme and header names). No API key: the signature
// is the credential, and it also tells which owner's schedule is meant when several owners have
// a schedule of that name. Unknown schedule and bad signature answer the same 401.
import type { FastifyInstance } from "fastify";
import { RPC } from "../errors.js";
import type { RateLimiter } from "../rate-limit.js";
import { fireSchedules } from "../schedule-fire.js";
import type { ServerServices } from "../services.js";
import { ReplayGuard } from "./replay.js";
import { checkTimestamp, REPLAY_WINDOW_S, SIGNATURE_HEADER, signatureMatches, TIMESTAMP_HEADER } from "./signature.js";

const body = (code: number, message: string) => ({ error: { code, message } });

export function registerHookRoutes(app: FastifyInstance, services: ServerServices, limiter: RateLimiter): void {
  const replay = new ReplayGuard(REPLAY_WINDOW_S * 1000);
  app.post("/hooks/schedules/:name", async (req, reply) => {
    const { name } = req.params as { name: string };
    const query = req.query as Record<string, string | undefined>;
    const wait = limiter.take(`hook-ip:${req.ip}`);
    if (wait > 0) return reply.code(429).header("retry-after", String(wait)).send(body(RPC.RATE_LIMITED, "too many requests"));
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const timestamp = req.headers[TIMESTAMP_HEADER] as string | undefined;
    const signature = req.headers[SIGNATURE_HEADER] as string | undefined;
    const ts = checkTimestamp(timestamp);
    if (!ts.ok) return reply.code(401).send(body(RPC.UNAUTHORIZED, ts.reason));
    const hooks = (await services.hooks.byName(name)).filter((h) => query.owner === undefined || h.owner === query.owner);
    // Every candidate is checked (no early exit), so timing does not tell how many there are.
    const matched = hooks.filter((h) => signatureMatches(h.secret, timestamp!, raw, signature));
    if (matched.length !== 1) return reply.code(401).send(body(RPC.UNAUTHORIZED, `bad signature: send ${SIGNATURE_HEADER}: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body)) and ${TIMESTAMP_HEADER}`));
    if (!replay.firstUse(signature!)) return reply.code(409).send(body(RPC.CONFLICT, "this signed request was already received (replay)"));
    const hook = matched[0]!;
    const waitForRuns = query.wait === "true" || query.wait === "1";
    const runs = await fireSchedules(services, hook.owner, { name: hook.name, owner: hook.owner, wait: waitForRuns });
    return reply.code(waitForRuns ? 200 : 202).send({ runs });
  });
}
