// The request and response contracts of `grove policy check` (zod types, in the shape of
// contracts.ts). Imports only zod and the policy's types, so the CLI's contract table stays light.
import { z } from "zod";
import { PolicyDecisionJson } from "../agent/policy/types.js";
import { globals, type Contract } from "./contract-parts.js";

export const PolicyBatchError = z
  .object({ error: z.object({ line: z.number().int().describe("1-based line number of the input"), message: z.string() }) })
  .describe("--batch: an input line that could not be checked (not JSON, a bad field)");

export const PolicyBatchInput = z
  .object({
    command: z.string().describe("the bash command string to check"),
    restrictions: z.unknown().optional().describe("restrictions for this line (default: --restrictions)"),
    cwd: z.string().optional().describe("working directory for this line (default: --cwd, relative ones resolve against it)"),
  })
  .strict();

export const POLICY_CONTRACTS: Record<string, Contract> = {
  "policy check": {
    request: z.object({
      ...globals,
      args: z.array(z.string()).describe("the command to check, after -- (its words are joined by spaces)"),
      restrictions: z.string().optional().describe('restrictions as JSON, e.g. {"no_sudo":true,"allowed_dirs":["/srv"]}, or @FILE'),
      cwd: z.string().optional().describe("the directory the command would run in (default: the current one)"),
      batch: z.boolean().optional().describe("read JSON lines {command, restrictions, cwd} on stdin, print one decision line each"),
    }),
    response: z.union([PolicyDecisionJson, PolicyBatchError]),
  },
};
