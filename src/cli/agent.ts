// `grove agent run PROMPT`: the agent from the command line. Events are printed as they happen —
// readable lines by default, one JSON line each with --json — then the result. A command needing
// approval is asked about on the terminal; without one, the run stops "waiting_approval" (exit 1).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import type { AgentEvent, AgentResult } from "../agent/types.js";
import type { ApprovalRequest } from "../core/errors.js";
import type { Machine } from "../machines/types.js";
import { setExitCode, write } from "./io.js";
import type { GlobalOptions } from "./program.js";

export interface AgentRunCliOptions extends GlobalOptions {
  model?: string;
  machine?: string;
  outputSchema?: string;
  context?: string;
  restrictions?: string;
  approval: "never" | "on_risk" | "always";
  maxRetries?: number;
  maxSteps?: number;
  timeout?: string;
  cwd?: string;
}

const inputError = (message: string) => Object.assign(new Error(message), { name: "InputError" });

/** A flag holding JSON, or @FILE holding JSON. */
function jsonFlag(flag: string, text: string | undefined, kind: "object"): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let source = text;
  if (text.startsWith("@")) {
    try {
      source = readFileSync(text.slice(1), "utf8");
    } catch (err) {
      throw inputError(`${flag}: cannot read ${text.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw inputError(`${flag}: not JSON: ${(err as Error).message}`);
  }
  if (kind === "object" && (typeof value !== "object" || value === null || Array.isArray(value))) throw inputError(`${flag}: must be a JSON object`);
  return value as Record<string, unknown>;
}

/** 30s, 5m, 1h, 500ms; a bare number is seconds (seed 000's `timeout=300`). */
export function parseTimeout(text: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms"] : NaN;
  if (!Number.isSafeInteger(ms) || ms < 1) throw inputError(`--timeout: expected a duration such as 30s, 5m, 500ms, got "${text}"`);
  return ms;
}

export async function agentRunCommand(prompt: string, opts: AgentRunCliOptions): Promise<void> {
  const outputSchema = jsonFlag("--output-schema", opts.outputSchema, "object");
  const context = jsonFlag("--context", opts.context, "object");
  const restrictions = jsonFlag("--restrictions", opts.restrictions, "object");
  const timeout = opts.timeout === undefined ? undefined : parseTimeout(opts.timeout);
  const [{ runAgent }, { InputError }] = await Promise.all([import("../agent/run.js"), import("../core/errors.js")]);
  // A named machine comes from the store's registry (`grove machines add`), seen from --as.
  let machine: Machine = (await import("../machines/local.js")).localMachine;
  let closeGrove = async () => {};
  if (opts.machine !== undefined && opts.machine !== "local") {
    const { openGrove } = await import("./context.js");
    const grove = await openGrove(opts);
    closeGrove = () => grove.close();
    try {
      machine = await grove.machines!.resolve(opts.machine, grove.scope);
    } catch (err) {
      await closeGrove();
      throw inputError(`--machine: ${(err as Error).message}`);
    }
  }

  const json = opts.json === true;
  const printer = json ? await jsonPrinter() : textPrinter();
  const interactive = process.stdin.isTTY === true && !json;
  let result: AgentResult;
  try {
    result = await runAgent({
      prompt,
      outputSchema,
      context,
      restrictions: restrictions as never,
      approval: opts.approval,
      maxRetries: opts.maxRetries,
      maxSteps: opts.maxSteps,
      timeout,
      model: opts.model,
      machine,
      cwd: opts.cwd === undefined ? undefined : resolve(opts.cwd),
      onEvent: printer,
      ...(interactive ? { onApproval: askOnTerminal } : {}),
    });
  } catch (err) {
    if (err instanceof InputError) throw inputError(err.message);
    throw err;
  } finally {
    await closeGrove();
  }
  await printer.flush?.();
  if (result.status !== "completed") setExitCode(1);
}

type Printer = ((e: AgentEvent) => void) & { flush?: () => Promise<void> };

/** --json: one line per event, in order (--jq applied by printJsonLine). */
async function jsonPrinter(): Promise<Printer> {
  const { printJsonLine } = await import("./context.js");
  let chain = Promise.resolve();
  const p: Printer = (e) => {
    chain = chain.then(() => printJsonLine(e));
  };
  p.flush = () => chain;
  return p;
}

function textPrinter(): Printer {
  let atLineStart = true;
  const line = (s: string) => {
    if (!atLineStart) write("\n");
    write(`${s}\n`);
    atLineStart = true;
  };
  return (e) => {
    switch (e.type) {
      case "thinking":
        return line(`· ${e.content.replace(/\n/g, "\n  ")}`);
      case "tool_call": {
        const a = (e.args ?? {}) as Record<string, unknown>;
        if (e.tool === "run_command" && typeof a.command === "string") return line(`$ ${a.command}`);
        if (e.tool === "final_answer") return;
        return line(`> ${e.tool} ${JSON.stringify(e.args)}`);
      }
      case "output": {
        write(e.chunk);
        atLineStart = e.chunk.endsWith("\n");
        return;
      }
      case "tool_result":
        if (e.tool === "final_answer" && e.status === "ok") return;
        if (e.status === "ok" && e.tool === "run_command") return;
        if (e.status === "ok") return line(`  ${e.result.split("\n")[0]!.slice(0, 200)}`);
        return line(`  [${e.status}] ${e.result.split("\n").slice(0, 6).join("\n  ")}`);
      case "approval_required":
        return line(`? approval required (${e.request.risk} risk): ${e.request.command}${e.request.reasons.length ? `\n  ${e.request.reasons.join("\n  ")}` : ""}`);
      case "result":
      case "error": {
        const r = e.result;
        if (r.planned_actions.length > 0) line(`planned actions (not executed):\n${r.planned_actions.map((a) => `  - ${a.command}`).join("\n")}`);
        if (e.type === "error") line(`failed (${e.error.type}): ${e.error.message}`);
        else if (r.status === "waiting_approval") line(`waiting for approval: ${r.approval?.command} (no terminal to ask on)`);
        else line(`result:\n${JSON.stringify(r.output, null, 2)}`);
        return line(`${r.steps} model calls, ${r.commands.length} commands run, ${r.usage.total_tokens} tokens (${r.model})`);
      }
    }
  };
}

async function askOnTerminal(req: ApprovalRequest): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`approve "${req.command}"? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}


