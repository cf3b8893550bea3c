// The request and response contracts of `grove generate` (zod types, in the shape of contracts.ts).
import { z } from "zod";
import { globals, type Contract } from "./contract-parts.js";

export const GenerateJson = z.object({
  tree: z.record(z.string(), z.unknown()).describe("the generated tree, in grove format"),
  task_count: z.number().int(),
  executors: z.array(z.string()).describe("the executors the tree uses"),
  attempts: z.number().int().describe("1, or 2 when the model's first answer was repaired"),
  fixes: z.array(z.string()).describe("what grove changed in the model's answer"),
  described: z.array(z.string()).describe("the executors described to the model"),
  model: z.string(),
  file: z.string().optional().describe("with -o: where the tree was written"),
  run: z.unknown().optional().describe("with --run: the run's result, as `grove run --json` prints it"),
});

export const GENERATE_CONTRACTS: Record<string, Contract> = {
  generate: {
    request: z.object({
      ...globals,
      args: z.tuple([z.string().min(1, "the requirement is empty")]).describe("<requirement>"),
      output: z.string().min(1).optional().describe("write the tree to this file"),
      run: z.boolean().optional(),
      allow: z.string().optional().describe("comma-separated executor ids the tree may use, or *"),
      model: z.string().regex(/^[a-z-]+:.+/, "expected provider:model").optional(),
      temperature: z.number().min(0).max(2).optional(),
      maxTokens: z.number().int().positive().optional(),
      concurrency: z.number().int().positive(),
      allowPrivateNetwork: z.boolean().optional(),
    }),
    response: GenerateJson,
  },
};
