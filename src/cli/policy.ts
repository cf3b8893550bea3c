// `grove policy check`: the command policy of DESIGN §9 from the command line. Exit 0 whenever the
// check itself ran, whatever the decision (scripts read the decision from the output); exit 2 for
// bad input (restrictions that are not valid JSON or not valid restrictions, no command).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import type { PolicyDecision } from "../agent/policy/types.js";
import { write } from "./io.js";
import type { GlobalOptions } from "./program.js";

export interface PolicyCheckOptions extends GlobalOptions {
  restrictions?: string;
  cwd?: string;
  batch?: boolean;
}

const inputError = (message: string) => Object.assign(new Error(message), { name: "InputError" });

export async function policyCheckCommand(words: string[], opts: PolicyCheckOptions): Promise<void> {
  const { loadPolicy, parseRestrictions, PolicyConfigError } = await import("../agent/policy/index.js");
  // context.js (printJson, which honours --jq) pulls in the store: only for JSON output.
  const json = () => import("./context.js");
  const restrictions = readRestrictions(opts.restrictions, (value) => {
    try {
      return parseRestrictions(value);
    } catch (err) {
      if (err instanceof PolicyConfigError) throw inputError(`--restrictions: ${err.message}`);
      throw err;
    }
  });
  const cwd = resolve(opts.cwd ?? process.cwd());
  if (opts.batch && words.length > 0) throw inputError("--batch reads the commands from stdin: give no command after --");
  if (!opts.batch && words.length === 0) throw inputError("give the command to check after -- (grove policy check -- 'ls -la'), or use --batch");
  const policy = await loadPolicy();
  const check = (command: string, r: unknown, dir: string, flag: string): PolicyDecision => {
    try {
      return policy.check(command, r, { cwd: dir });
    } catch (err) {
      if (err instanceof PolicyConfigError) throw inputError(`${flag}${flag.startsWith("-") ? ": " : "."}${err.message}`);
      throw err;
    }
  };
  // Entries with examples are verified on first use: do it now, so a bad one is exit 2 up front.
  check("true", restrictions, cwd, "--restrictions");

  if (!opts.batch) {
    const decision = check(words.join(" "), restrictions, cwd, "--restrictions");
    if (opts.json) await (await json()).printJson(decision);
    else write(decision.reasons.length > 0 ? `${decision.decision}: ${decision.reasons.join("; ")}\n` : `${decision.decision}\n`);
    return;
  }

  const [{ PolicyBatchInput }, { printJsonLine }] = await Promise.all([import("./policy-contracts.js"), json()]);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    let out: unknown;
    try {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (err) {
        throw new Error(`not JSON: ${(err as Error).message}`);
      }
      const parsed = PolicyBatchInput.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new Error(`${issue.path.join(".") || "line"}: ${issue.message}`);
      }
      const input = parsed.data;
      const dir = input.cwd === undefined ? cwd : resolve(cwd, input.cwd);
      out = check(input.command, input.restrictions === undefined ? restrictions : input.restrictions, dir, "restrictions");
    } catch (err) {
      out = { error: { line: n, message: (err as Error).message } };
    }
    await printJsonLine(out);
  }
}

/** --restrictions: JSON, or @FILE holding JSON; validated by `validate`. */
function readRestrictions(flag: string | undefined, validate: (value: unknown) => unknown): unknown {
  if (flag === undefined) return {};
  let text = flag;
  if (flag.startsWith("@")) {
    try {
      text = readFileSync(flag.slice(1), "utf8");
    } catch (err) {
      throw inputError(`--restrictions: cannot read ${flag.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw inputError(`--restrictions: not JSON: ${(err as Error).message}`);
  }
  validate(value);
  return value;
}
