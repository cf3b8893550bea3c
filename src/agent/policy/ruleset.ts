// Loading rule files: validate their shape, index them, then run every `match` / `not_match`
// example through the real parser, extractor and matcher (as Codex's execpolicy does). A rule whose
// examples do not behave as declared makes the whole set fail to load, with one line per failure.
import { z } from "zod";
import { extract, type Cmd, type Extraction } from "./extract.js";
import { matchCondition, matchPattern, nameMatches, parsePattern, type CommandCondition, type MatchEnv, type Pattern } from "./match.js";
import type { BashParser } from "./parser.js";
import { pathUses } from "./paths.js";
import { RuleFile, type CommandRule, type FileRule, type FlagRule, type VariableRule, type WrapperRule } from "./rule-schema.js";

export type CommandKind = "no_sudo" | "no_delete" | "read_only" | "fail_closed";

export interface CompiledRule extends CommandCondition {
  id: string;
  file: string;
  reason?: string;
}

export interface RuleSet {
  wrappers: Map<string, WrapperRule>;
  files: Map<string, FileRule>;
  flags: Map<string, Record<string, string>>;
  singleDash: Set<string>;
  rules: Record<CommandKind, CompiledRule[]>;
  variables: (VariableRule & { file: string })[];
}

export class PolicyRuleError extends Error {
  override name = "PolicyRuleError";
  constructor(readonly problems: string[]) {
    super(`policy rules do not load: ${problems.join("; ")}`);
  }
}

/** Example commands are extracted as if run from here. */
const EXAMPLE_CWD = "/work";
const EXAMPLE_HOME = "/home/user";

export function compileCondition(rule: Pick<CommandRule, "patterns" | "options" | "subcommands" | "globalOptions" | "unless" | "maxOperands" | "firstOperand">): CommandCondition {
  return {
    patterns: rule.patterns.map(parsePattern),
    options: rule.options,
    subcommands: rule.subcommands,
    globalOptions: rule.globalOptions,
    unless: rule.unless,
    maxOperands: rule.maxOperands,
    firstOperand: rule.firstOperand ? new RegExp(rule.firstOperand) : undefined,
  };
}

/**
 * Validates, indexes and verifies rule files. Throws PolicyRuleError listing every problem.
 * `typed` files (the built-in ones, checked by the compiler) skip the shape validation; their
 * examples are verified all the same.
 */
export function compileRules(files: unknown[], parser: BashParser, typed: readonly unknown[] = []): RuleSet {
  const problems: string[] = [];
  const set: RuleSet = {
    wrappers: new Map(),
    files: new Map(),
    flags: new Map(),
    singleDash: new Set(),
    rules: { no_sudo: [], no_delete: [], read_only: [], fail_closed: [] },
    variables: [],
  };
  const parsedFiles: z.infer<typeof RuleFile>[] = [];
  files.forEach((raw, index) => {
    if (typed.includes(raw)) return void parsedFiles.push(raw as z.infer<typeof RuleFile>);
    const parsed = RuleFile.safeParse(raw);
    const name = (raw as { name?: unknown })?.name;
    const label = typeof name === "string" ? `file "${name}"` : `file #${index + 1}`;
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
      return;
    }
    parsedFiles.push(parsed.data);
  });
  if (problems.length > 0) throw new PolicyRuleError(problems);

  for (const file of parsedFiles) {
    const seen = new Set<string>();
    for (const rule of file.rules) {
      if (seen.has(rule.id)) problems.push(`file "${file.name}": two rules with id "${rule.id}"`);
      seen.add(rule.id);
    }
    switch (file.kind) {
      case "wrappers":
        for (const rule of file.rules) for (const n of rule.names) indexOnce(set.wrappers, n, rule, file.name, "wrapper", problems);
        break;
      case "files":
        for (const rule of file.rules) for (const n of rule.names) indexOnce(set.files, n, rule, file.name, "file rule", problems);
        break;
      case "flags":
        for (const n of file.singleDashCommands ?? []) set.singleDash.add(n);
        for (const rule of file.rules) for (const n of rule.names) set.flags.set(n, { ...(set.flags.get(n) ?? {}), ...rule.flags });
        break;
      case "variables":
        for (const rule of file.rules) set.variables.push({ ...rule, file: file.name });
        break;
      default:
        for (const rule of file.rules) {
          try {
            set.rules[file.kind].push({ ...compileCondition(rule), id: rule.id, file: file.name, reason: rule.reason });
          } catch (err) {
            problems.push(`file "${file.name}", rule "${rule.id}": ${(err as Error).message}`);
          }
        }
    }
  }
  if (problems.length > 0) throw new PolicyRuleError(problems);

  const verifier = new Verifier(set, parser);
  for (const file of parsedFiles) {
    for (const rule of file.rules) {
      const where = `file "${file.name}", rule "${rule.id}"`;
      for (const example of rule.match ?? []) {
        const failure = verifier.check(file.kind, rule, example, true);
        if (failure) problems.push(`${where}: match example ${JSON.stringify(example)} ${failure}`);
      }
      for (const example of rule.not_match ?? []) {
        const failure = verifier.check(file.kind, rule, example, false);
        if (failure) problems.push(`${where}: not_match example ${JSON.stringify(example)} ${failure}`);
      }
    }
  }
  if (problems.length > 0) throw new PolicyRuleError(problems);
  return set;
}

function indexOnce<T>(map: Map<string, T>, name: string, rule: T, file: string, what: string, problems: string[]): void {
  if (map.has(name)) problems.push(`file "${file}": "${name}" has two ${what}s`);
  map.set(name, rule);
}

function splitExample(example: string): [string, string | null] {
  const at = example.lastIndexOf(" => ");
  return at < 0 ? [example, null] : [example.slice(0, at), example.slice(at + 4)];
}

class Verifier {
  private env: MatchEnv;
  constructor(
    private readonly set: RuleSet,
    private readonly parser: BashParser,
  ) {
    this.env = { flags: set.flags, singleDash: set.singleDash, home: EXAMPLE_HOME };
  }

  extract(command: string): Extraction {
    return extract(command, { parser: this.parser, wrappers: this.set.wrappers, cwd: EXAMPLE_CWD, home: EXAMPLE_HOME });
  }

  /** null when the example behaves as declared, else what went wrong. */
  check(kind: string, rule: CommandRule | WrapperRule | FileRule | FlagRule | VariableRule, example: string, expected: boolean): string | null {
    switch (kind) {
      case "wrappers":
        return this.wrapper(rule as WrapperRule, example, expected);
      case "files":
        return this.file(rule as FileRule, example, expected);
      case "flags":
        return this.flag(example, expected);
      case "variables": {
        const ex = this.extract(example);
        const names = [...ex.assignments, ...ex.commands.flatMap((c) => c.assignments)].map((a) => a.name);
        const hit = names.some((n) => (rule as VariableRule).names.some((g) => nameMatches(g, n)));
        return hit === expected ? null : expected ? "assigns none of its variables" : "assigns one of its variables";
      }
      default: {
        const compiled = { ...compileCondition(rule as CommandRule) };
        const couldMatch = kind !== "read_only";
        const ex = this.extract(example);
        const hit = ex.commands.find((c) => matchCondition(compiled, c, this.env, couldMatch));
        if (expected && !hit) return `does not match (commands: ${ex.commands.map((c) => JSON.stringify(c.text)).join(", ") || "none"})`;
        if (!expected && hit) return `matches ${JSON.stringify(hit.text)}`;
        return null;
      }
    }
  }

  /** "WRAPPED => CARRIED": the first command carried by the wrapper is written CARRIED. */
  private wrapper(rule: WrapperRule, example: string, expected: boolean): string | null {
    const [command, carried] = splitExample(example);
    if (expected && carried === null) return 'has no " => " and the carried command';
    const ex = this.extract(command);
    const index = ex.commands.findIndex((c) => c.via.length === 0 && c.wrapper === rule);
    const wrapper = ex.commands[index];
    const inner = wrapper && ex.commands[index + 1] && ex.commands[index + 1]!.via.length > wrapper.via.length ? ex.commands[index + 1] : undefined;
    if (!expected) return inner ? `carries ${JSON.stringify(inner.text)}` : null;
    if (!wrapper) return "has no command handled by this wrapper";
    if (!inner) return "carries no command";
    return inner.text === carried ? null : `carries ${JSON.stringify(inner.text)}, not ${JSON.stringify(carried)}`;
  }

  /** "CMD => w:PATH r:PATH…": the paths written (and read, when any r: is listed). */
  private file(rule: FileRule, example: string, expected: boolean): string | null {
    const [command, spec] = splitExample(example);
    const ex = this.extract(command);
    const cmd: Cmd | undefined = ex.commands.find((c) => c.via.length === 0);
    if (!cmd) return "has no command";
    if (!rule.names.includes(cmd.name)) return `starts with "${cmd.name}", which this rule is not about`;
    const uses = pathUses(cmd, this.set.files).filter((u) => u.from === "args");
    const text = (u: (typeof uses)[number]) => (u.word ? u.word.value : `?${u.unknown}`);
    const writes = uses.filter((u) => u.mode === "write").map(text).sort();
    const reads = uses.filter((u) => u.mode === "read").map(text).sort();
    if (!expected) return writes.length === 0 ? null : `writes ${JSON.stringify(writes)}`;
    if (spec === null) return 'has no " => " and the written paths';
    const tokens = spec.split(/\s+/).filter(Boolean);
    const wantW = tokens.filter((t) => !t.startsWith("r:")).map((t) => t.replace(/^w:/, "")).sort();
    const wantR = tokens.filter((t) => t.startsWith("r:")).map((t) => t.slice(2)).sort();
    if (JSON.stringify(writes) !== JSON.stringify(wantW)) return `writes ${JSON.stringify(writes)}, not ${JSON.stringify(wantW)}`;
    if (wantR.length > 0 && JSON.stringify(reads) !== JSON.stringify(wantR)) return `reads ${JSON.stringify(reads)}, not ${JSON.stringify(wantR)}`;
    return null;
  }

  /** "COMMAND => ENTRY": the entry (a forbidden_commands pattern) matches the command. */
  private flag(example: string, expected: boolean): string | null {
    const [command, entry] = splitExample(example);
    if (entry === null) return 'has no " => " and the pattern';
    let pattern: Pattern;
    try {
      pattern = parsePattern(entry);
    } catch (err) {
      return (err as Error).message;
    }
    const ex = this.extract(command);
    const hit = ex.commands.some((c) => matchPattern(pattern, c, this.env, true));
    return hit === expected ? null : expected ? "is not matched by the pattern" : "is matched by the pattern";
  }
}
