// Pieces shared by the command contracts (contracts.ts, schedule-contracts.ts).
import { z } from "zod";

export type Contract = { request: z.ZodType; response: z.ZodType };

export const isoOrNull = z.string().nullable().describe("ISO 8601 time, or null");
export const globals = {
  db: z.string().optional().describe("SQLite file, sqlite:PATH, :memory: or postgres://…"),
  as: z.string().optional().describe("owner scope to act as"),
  json: z.boolean().optional(),
  jq: z.string().optional().describe("jq filter applied to each JSON output item; null results are dropped"),
  executors: z.array(z.string()).optional().describe("modules to load executors from"),
};
export const positive = z.number().int().positive();
export const noArgs = z.array(z.string()).max(0).describe("no positional arguments");
