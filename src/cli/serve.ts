// `grove serve`: the HTTP API until SIGTERM / SIGINT (then in-flight tasks are handed back).
import { readFileSync } from "node:fs";
import { InputError } from "../core/errors.js";
import { DEFAULT_SETTINGS } from "../core/executor.js";
import { openGrove, printJsonLine } from "./context.js";
import { write, writeErr } from "./io.js";
import type { GlobalOptions } from "./program.js";
import { dbSpec } from "./schedules.js";

export interface ServeOpts extends GlobalOptions {
  port: number;
  host: string;
  concurrency: number;
  workerConcurrency: number;
  leaseMs?: number;
  jwtSecretFile?: string;
  jwtPublicKey?: string;
  jwtScopeClaim: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  rateLimit: number;
  burst: number;
  bodyLimit: number;
  webhooks?: string;
  allowPrivateNetwork?: boolean;
  mcp: boolean;
  log?: boolean;
}

function readText(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, flag.slice(2));
  }
}

function webhooksOf(path: string | undefined) {
  if (!path) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(readText("--webhooks", path));
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`--webhooks ${path}: not valid JSON`, "webhooks");
  }
  if (!Array.isArray(list)) throw new InputError(`--webhooks ${path}: expected a JSON array of {url, secret, events}`, "webhooks");
  list.forEach((h: { url?: unknown; secret?: unknown; events?: unknown }, i) => {
    if (typeof h?.url !== "string" || !URL.canParse(h.url)) throw new InputError(`--webhooks ${path}: [${i}].url must be a URL`, "webhooks");
    if (typeof h.secret !== "string" || h.secret.length < 16) throw new InputError(`--webhooks ${path}: [${i}].secret must be a string of at least 16 characters`, "webhooks");
    if (h.events !== undefined && !(Array.isArray(h.events) && h.events.every((e) => typeof e === "string"))) throw new InputError(`--webhooks ${path}: [${i}].events must be an array of event types`, "webhooks");
  });
  return list as { url: string; secret: string; events?: string[] }[];
}

export async function serveCommand(opts: ServeOpts): Promise<void> {
  if (opts.as) throw new InputError("--as does not apply to grove serve: each request acts as its credential's scope", "as");
  const secret = opts.jwtSecretFile ? readText("--jwt-secret-file", opts.jwtSecretFile).trim() : process.env.GROVE_JWT_SECRET || undefined;
  const publicKeyPem = opts.jwtPublicKey ? readText("--jwt-public-key", opts.jwtPublicKey) : undefined;
  const eventWebhooks = webhooksOf(opts.webhooks);
  const grove = await openGrove({ ...opts, as: undefined });
  const { createServer } = await import("../server/app.js");
  const server = await createServer({
    store: grove.store,
    registry: grove.registry,
    settings: { ...DEFAULT_SETTINGS, ...(opts.allowPrivateNetwork ? { allowPrivateNetwork: true } : {}) },
    dbSpec: dbSpec(opts),
    executorModules: opts.executors,
    jwt: { secret, publicKeyPem, scopeClaim: opts.jwtScopeClaim, issuer: opts.jwtIssuer, audience: opts.jwtAudience },
    rateLimit: { perSecond: opts.rateLimit, burst: opts.burst },
    bodyLimit: opts.bodyLimit,
    concurrency: opts.concurrency,
    workerConcurrency: opts.workerConcurrency,
    leaseMs: opts.leaseMs,
    eventWebhooks,
    logger: !!opts.log,
    mcp: opts.mcp,
    machines: grove.machines,
  });
  let url: string;
  try {
    url = await server.listen(opts.port, opts.host);
  } catch (err) {
    await server.close().catch(() => undefined);
    await grove.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") throw new Error(`cannot listen on ${opts.host}:${opts.port}: ${code}`);
    throw err;
  }
  if (opts.json) await printJsonLine({ event: "listening", url, store: grove.store.kind });
  else write(`grove serve listening on ${url} (store ${grove.store.kind})\n`);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      writeErr(`grove: ${sig}: stopping; tasks in flight are handed back\n`);
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  await server.close();
  await grove.close();
  process.exit(0);
}
