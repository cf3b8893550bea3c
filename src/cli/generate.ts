import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { InputError, TaskFailure } from "../core/errors.js";
import { generateTree } from "../executors/generate.js";
import { openGrove, printJson } from "./context.js";
import { setExitCode, write, writeErr } from "./io.js";
import type { GlobalOptions } from "./program.js";

interface GenerateOpts extends GlobalOptions {
  output?: string;
  run?: boolean;
  allow?: string;
  model?: string;
  temperature?: number;
  maxTokens?: number;
  concurrency: number;
  allowPrivateNetwork?: boolean;
}

/**
 * `grove generate "REQUIREMENT" [-o FILE] [--run] [--allow ids] [--json]`: asks the model for a
 * tree, validated like a tree file (see src/executors/generate.ts). Without -o the tree is printed;
 * --run stores and runs it like `grove run` (exit 0 completed, 1 otherwise). By default the tree
 * may not use the executors in GENERATE_DENIED_BY_DEFAULT; --allow names the ones it may use.
 */
export async function generateCommand(requirement: string, opts: GenerateOpts): Promise<void> {
  const allow = opts.allow === undefined ? undefined : opts.allow.split(",").map((s) => s.trim()).filter(Boolean);
  const grove = await openGrove(opts);
  try {
    let generated;
    try {
      generated = await generateTree({
        requirement,
        registry: grove.registry,
        owner: grove.scope,
        allow,
        model: opts.model,
        temperature: opts.temperature,
        maxTokens: opts.maxTokens,
        signal: new AbortController().signal,
        log: opts.json ? undefined : (m) => writeErr(`grove: ${m}\n`),
      });
    } catch (err) {
      // A bad --model / missing GROVE_MODEL is the caller's input (exit 2); an invalid tree is not.
      if (err instanceof TaskFailure && err.type === "validation_error") throw new InputError(err.message.replace(/^inputs\./, "--"), "model");
      throw err;
    }
    const out: Record<string, unknown> = { ...generated };
    const text = `${JSON.stringify(generated.tree, null, 2)}\n`;
    if (opts.output) {
      const file = resolve(opts.output);
      writeFileSync(file, text);
      out.file = file;
    }
    if (!opts.json) {
      for (const f of generated.fixes) writeErr(`grove: fixed: ${f}\n`);
      if (opts.output) writeErr(`grove: wrote ${out.file as string} (${generated.task_count} tasks: ${generated.executors.join(", ")})\n`);
      else if (!opts.run) write(text);
    }
    if (opts.run) {
      const tree = await grove.createTree(generated.tree, { name: "generated" });
      const result = await grove.runTree(tree.id, { concurrency: opts.concurrency });
      out.run = result;
      if (!opts.json) {
        for (const t of result.tasks) write(`${t.status.padEnd(9)} ${t.name} (${t.executor})${t.error ? `: ${t.error.message}` : ""}\n`);
        write(`tree ${result.tree_id} ${result.status}\n`);
      }
      setExitCode(result.status === "completed" ? 0 : 1);
    }
    if (opts.json) await printJson(out);
  } finally {
    await grove.close();
  }
}

