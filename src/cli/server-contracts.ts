// The request and response contracts of `grove serve`, `grove keys …`, `grove schedules webhook`
// and `grove mcp` (in the shape of contracts.ts).
import { z } from "zod";
import { globals, isoOrNull, noArgs, positive, type Contract } from "./contract-parts.js";

const nonNegative = z.number().int().min(0);

export const KeyJson = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.string().describe('owner scope; "" is every scope'),
  created_at: z.string(),
  revoked_at: isoOrNull,
  last_used_at: isoOrNull,
});

export const SERVER_CONTRACTS: Record<string, Contract> = {
  serve: {
    request: z.object({
      ...globals,
      args: noArgs,
      port: nonNegative,
      host: z.string(),
      concurrency: positive,
      workerConcurrency: nonNegative,
      leaseMs: positive.optional(),
      jwtSecretFile: z.string().optional(),
      jwtPublicKey: z.string().optional(),
      jwtScopeClaim: z.string(),
      jwtIssuer: z.string().optional(),
      jwtAudience: z.string().optional(),
      rateLimit: nonNegative,
      burst: positive,
      bodyLimit: positive,
      webhooks: z.string().optional(),
      allowPrivateNetwork: z.boolean().optional(),
      mcp: z.boolean(),
      log: z.boolean().optional(),
    }),
    response: z.object({ event: z.literal("listening"), url: z.string(), store: z.enum(["sqlite", "postgres"]) }).describe("one JSON line once listening"),
  },
  "keys create": {
    request: z.object({ ...globals, args: noArgs, scope: z.string().optional(), name: z.string().optional() }),
    response: KeyJson.extend({ key: z.string().describe("the secret: shown once, never stored") }),
  },
  "keys list": { request: z.object({ ...globals, args: noArgs }), response: z.array(KeyJson) },
  "keys revoke": { request: z.object({ ...globals, args: z.tuple([z.string()]).describe("<key id or name>") }), response: KeyJson },
  "schedules webhook": {
    request: z.object({ ...globals, args: z.tuple([z.string()]).describe("<name>"), rotate: z.boolean().optional() }),
    response: z.object({
      name: z.string(),
      owner: z.string(),
      path: z.string(),
      secret: z.string(),
      created: z.boolean(),
      signature_header: z.string(),
      timestamp_header: z.string(),
    }),
  },
  mcp: {
    request: z.object({ ...globals, args: noArgs, concurrency: positive, allowPrivateNetwork: z.boolean().optional() }),
    response: z.unknown().describe("MCP (JSON-RPC) messages on stdout"),
  },
};
