import { resolve } from "node:path";
import { ApprovalRequired, TaskFailure } from "../core/errors.js";
import type { ExecutorContext } from "../core/executor.js";
import type { Restrictions } from "../agent/policy/types.js";

/**
 * The gate in front of executors that spawn a program grove did not write (the MCP stdio server).
 *
 * apflow's MCP executor spawned any command with no check at all, bypassing the gate its own
 * command executor had. grove's `command` executor runs what the tree says (the tree author is
 * trusted), so here the program is checked by the command policy (DESIGN §9) with restrictions
 * that are always on: `no_sudo` and `no_delete`, which also turn on the policy's fail-closed rule
 * (a shell reading a script file or stdin, `bash -c "$X"`, eval, a non-literal command name, an
 * assignment of PATH/LD_PRELOAD/NODE_OPTIONS/… are denied). A task's `restrictions` can only
 * narrow these (narrowRestrictions), never widen them.
 *
 * The argv is checked as the shell-quoted command line `env K=V … PROGRAM ARG…`, so each word is
 * one literal word to the parser and the environment variables are checked like assignments.
 *
 * Layering note: the policy lives in src/agent/policy, above executors in DESIGN §1. It is a pure
 * function with no dependency on the agent; only its zod types are imported statically, the
 * checker is imported lazily. Moving it to a lower layer (core/policy) would remove the exception.
 */
export const SPAWN_BASE_RESTRICTIONS: Restrictions = { no_sudo: true, no_delete: true };

export interface SpawnCheck {
  /** The command line that was checked (env values masked), for messages and the approval request. */
  line: string;
  decision: "allow" | "simulate";
}

/** POSIX shell quoting: a word the parser reads back as exactly `s`. */
export function shellQuote(s: string): string {
  if (s !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function checkSpawn(
  argv: readonly string[],
  env: Record<string, string> | undefined,
  cwd: string | undefined,
  restrictions: unknown,
  ctx: ExecutorContext,
): Promise<SpawnCheck> {
  const assignments = Object.entries(env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const checked = [...(assignments.length > 0 ? ["env", ...assignments] : []), ...argv.map(shellQuote)].join(" ");
  // Values may be secrets: messages show only the names.
  const shown = [...(assignments.length > 0 ? ["env", ...Object.keys(env!).map((k) => `${k}=…`)] : []), ...argv.map(shellQuote)].join(" ");

  // Lazy: the policy loads the tree-sitter bash grammar (wasm).
  const { checkCommand, narrowRestrictions, PolicyConfigError } = await import("../agent/policy/index.js");
  let effective;
  try {
    effective = narrowRestrictions(SPAWN_BASE_RESTRICTIONS, restrictions);
  } catch (err) {
    if (err instanceof PolicyConfigError) throw new TaskFailure("validation_error", `inputs.restrictions.${err.message}`);
    throw err;
  }
  const d = await checkCommand(checked, effective, { cwd: resolve(cwd ?? process.cwd()) });
  const reasons = d.reasons.map((r) => r.replaceAll(checked, shown));
  if (d.decision === "deny") {
    throw new TaskFailure("executor_error", `command policy denies starting ${shown}: ${reasons.join("; ")}`, {
      decision: "deny",
      reasons,
    });
  }
  if (d.decision === "ask") {
    const resume = ctx.resume;
    if (resume?.request.command === shown && resume.decision === "approved") return { line: shown, decision: "allow" };
    if (resume?.request.command === shown && resume.decision === "rejected") {
      throw new TaskFailure("executor_error", `starting ${shown} was rejected${resume.by ? ` by ${resume.by}` : ""}${resume.reason ? `: ${resume.reason}` : ""}`);
    }
    throw new ApprovalRequired({ command: shown, reasons, risk: "medium", machine: ctx.machine }, null);
  }
  return { line: shown, decision: d.decision };
}
