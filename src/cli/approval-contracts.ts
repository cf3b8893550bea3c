// The request and response contracts of `grove tasks approve|reject|approvals` (DESIGN §9, §10),
// in the shape of contracts.ts.
import { z } from "zod";
import { globals, isoOrNull, positive, type Contract } from "./contract-parts.js";

/** A task waiting for approval (`tasks approvals --json`, and `run --json` when a run stops for one). */
export const ApprovalJson = z.object({
  task_id: z.string(),
  tree_id: z.string(),
  name: z.string(),
  executor: z.string(),
  owner: z.string(),
  attempt: z.number().int().describe("the attempt that paused"),
  command: z.string().describe("what the executor asks to do"),
  reasons: z.array(z.string()).describe("why it needs a human (the policy's reasons)"),
  risk: z.enum(["low", "medium", "high"]),
  machine: z.string().nullable(),
  requested_at: isoOrNull,
  approve: z.string().describe("the command line that approves it"),
  reject: z.string().describe("the command line that rejects it"),
});

export const DecisionJson = z.object({
  id: z.string(),
  tree_id: z.string(),
  name: z.string(),
  decision: z.enum(["approved", "rejected"]),
  by: z.string().nullable(),
  reason: z.string().nullable(),
  status: z.literal("ready").describe("the task is back in the queue; a worker or `grove run --resume` resumes it"),
  resume: z.string().describe("the command line that continues the tree in this shell"),
});

const decide = {
  request: z.object({ ...globals, args: z.tuple([z.string()]).describe("<task id>"), reason: z.string().optional() }),
  response: DecisionJson,
};

export const APPROVAL_CONTRACTS: Record<string, Contract> = {
  "tasks approve": decide,
  "tasks reject": decide,
  "tasks approvals": {
    request: z.object({ ...globals, args: z.array(z.string()).max(0), tree: z.string().optional(), limit: positive }),
    response: z.array(ApprovalJson),
  },
};
