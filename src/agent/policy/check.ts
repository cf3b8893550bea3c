// The decision (DESIGN §9): extract the simple commands, then apply rules 2–8 to them.
// A deny from any rule wins; then, under dry_run, anything not read-only is simulated (nothing runs,
// so nothing needs approval yet — the approval reasons are listed with it); then require_approval
// asks; else allow. With no restriction set at all, the answer is allow (with the commands found).
import { homedir } from "node:os";
import { posix as path } from "node:path";
import { extract, type Cmd, type Extraction } from "./extract.js";
import { matchCondition, matchPattern, nameMatches, parsePattern, type MatchEnv, type Pattern } from "./match.js";
import { loadBashParser, type BashParser } from "./parser.js";
import { ALWAYS_READABLE, ALWAYS_WRITABLE, inside, pathUses, PathResolver, redirectUse, type PathUse } from "./paths.js";
import type { RuleFile } from "./rule-schema.js";
import { compileRules, type RuleSet } from "./ruleset.js";
import { BUILTIN_RULE_FILES } from "./rules/index.js";
import { PolicyConfigError, Restrictions, type CheckOptions, type CommandEntry, type FoundCommand, type ParsedRestrictions, type PolicyDecision } from "./types.js";

interface CompiledEntry {
  source: string;
  pattern: Pattern;
  reason?: string;
}

/** A loaded policy: `check` is synchronous (the parser and the rules are ready). */
/** How many extractions a Policy keeps (see Policy.extraction). */
const RECENT_EXTRACTIONS = 4;

export class Policy {
  private entries = new Map<string, CompiledEntry>();
  private recent: { command: string; cwd: string; home: string; ex: Extraction }[] = [];

  constructor(
    readonly rules: RuleSet,
    private readonly parser: BashParser,
  ) {}

  /** The simple commands of `command` (rule 1), without judging them. */
  extract(command: string, opts: CheckOptions): Extraction {
    return extract(command, { parser: this.parser, wrappers: this.rules.wrappers, cwd: path.resolve(opts.cwd), home: opts.home ?? homedir() });
  }

  check(command: string, restrictions: unknown, opts: CheckOptions): PolicyDecision {
    const r = parseRestrictions(restrictions);
    const cwd = path.resolve(opts.cwd);
    const home = opts.home ?? homedir();
    const active =
      !!r.no_sudo || !!r.no_delete || !!r.dry_run || r.allowed_dirs !== undefined || r.read_only_dirs !== undefined || !!r.forbidden_commands?.length || !!r.require_approval?.length;
    let ex: Extraction;
    try {
      ex = this.extraction(command, cwd, home);
    } catch (err) {
      // A command nested deeper than the walk can follow (a RangeError) is not analysed: fail closed.
      if (!(err instanceof RangeError)) throw err;
      return active ? { decision: "deny", reasons: ["fail_closed: the command is nested too deeply to check at 1:1"], commands: [] } : { decision: "allow", reasons: [], commands: [] };
    }
    const at = positions(command);
    const commands = ex.commands.map((c) => commandJson(c, at));
    if (!active) return { decision: "allow", reasons: [], commands };

    const env: MatchEnv = { flags: this.rules.flags, singleDash: this.rules.singleDash, home };
    const deny: string[] = [];
    const ask: string[] = [];
    const simulate: string[] = [];
    const say = (rule: string, subject: string, offset: number, via?: string[], note?: string) =>
      `${rule}: ${subject} at ${at(offset)}${via && via.length > 0 ? ` via ${via.join(" > ")}` : ""}${note ? ` (${note})` : ""}`;
    const uses = new Map<Cmd, PathUse[]>();
    const usesOf = (c: Cmd) => {
      let u = uses.get(c);
      if (!u) uses.set(c, (u = pathUses(c, this.rules.files)));
      return u;
    };

    // Rule 2: fail closed.
    for (const issue of ex.issues) deny.push(say("fail_closed", issue.message, issue.at));
    for (const c of ex.commands) {
      for (const rule of this.rules.rules.fail_closed) {
        const hit = matchCondition(rule, c, env, true);
        if (hit) deny.push(say("fail_closed", `"${label(c, hit)}"`, c.at, c.via, rule.reason));
      }
    }
    for (const a of [...ex.assignments, ...ex.commands.flatMap((c) => c.assignments)]) {
      const rule = this.rules.variables.find((v) => v.names.some((n) => nameMatches(n, a.name)));
      if (rule) deny.push(say("fail_closed", `assignment to ${a.name}`, a.at, undefined, rule.reason));
    }
    // Rules 3 and 4.
    for (const [flag, kind] of [
      [r.no_sudo, "no_sudo"],
      [r.no_delete, "no_delete"],
    ] as const) {
      if (!flag) continue;
      for (const c of ex.commands) {
        for (const rule of this.rules.rules[kind]) {
          const hit = matchCondition(rule, c, env, true);
          if (hit) deny.push(say(kind, `"${label(c, hit)}"`, c.at, c.via, rule.reason));
        }
      }
    }
    // Rules 5 and 7.
    for (const [list, name, into] of [
      [r.forbidden_commands, "forbidden_commands", deny],
      [r.require_approval, "require_approval", ask],
    ] as const) {
      (list ?? []).forEach((entry, i) => {
        const compiled = this.entry(entry, `${name}[${i}]`, cwd, home);
        for (const c of ex.commands)
          if (matchPattern(compiled.pattern, c, env, true)) into.push(say(name, `"${compiled.source}" matches "${short(c.text)}"`, c.at, c.via, compiled.reason));
      });
    }
    // Rule 6.
    if (r.allowed_dirs !== undefined || r.read_only_dirs !== undefined) this.checkDirs(r, ex, usesOf, home, cwd, deny, say);
    // Rule 8.
    if (r.dry_run) {
      for (const c of ex.commands) {
        const why = this.notReadOnly(c, usesOf(c), env);
        if (why) simulate.push(say("dry_run", `"${c.name}" ${why}`, c.at, c.via));
      }
      for (const { redirect } of ex.redirects) {
        const use = redirectUse(redirect, null);
        if (use && use.mode === "write" && !alwaysWritable(use)) simulate.push(say("dry_run", `redirect writes ${use.word?.text ?? "a file"}`, redirect.at));
      }
    }
    const dedupe = (xs: string[]) => [...new Set(xs)];
    if (deny.length > 0) return { decision: "deny", reasons: dedupe(deny), commands };
    if (simulate.length > 0) return { decision: "simulate", reasons: dedupe([...simulate, ...ask]), commands };
    if (ask.length > 0) return { decision: "ask", reasons: dedupe(ask), commands };
    return { decision: "allow", reasons: [], commands };
  }

  /**
   * extract(), remembering the last few results: the agent's gate checks one command several times
   * in a row (its restrictions, then no_sudo/no_delete and dry_run for the risk), and an extraction
   * depends only on the command, the working directory, home and the rules — not on the file
   * system, which each decision still reads afresh. The walk never changes what it returned.
   */
  private extraction(command: string, cwd: string, home: string): Extraction {
    const recent = this.recent;
    for (let i = 0; i < recent.length; i++) {
      const r = recent[i]!;
      if (r.command === command && r.cwd === cwd && r.home === home) return r.ex;
    }
    const ex = extract(command, { parser: this.parser, wrappers: this.rules.wrappers, cwd, home });
    if (recent.length >= RECENT_EXTRACTIONS) recent.pop();
    recent.unshift({ command, cwd, home, ex });
    return ex;
  }

  private notReadOnly(c: Cmd, uses: PathUse[], env: MatchEnv): string | null {
    if (!c.literal) return "is not a literal command";
    const write = uses.find((u) => u.mode === "write" && !alwaysWritable(u));
    if (write) return `writes ${write.word?.text ?? "a file"}`;
    if (c.wrapper && c.carried) return c.wrapper.readOnly ? null : "is not read-only";
    return this.rules.rules.read_only.some((rule) => matchCondition(rule, c, env, false)) ? null : "is not read-only";
  }

  private checkDirs(
    r: ParsedRestrictions,
    ex: Extraction,
    usesOf: (c: Cmd) => PathUse[],
    home: string,
    cwd: string,
    deny: string[],
    say: (rule: string, subject: string, offset: number, via?: string[], note?: string) => string,
  ): void {
    const resolver = new PathResolver(home);
    const dir = (d: string) => resolver.real(d === "~" || d.startsWith("~/") ? home + d.slice(1) : path.resolve(cwd, d));
    const allowed = (r.allowed_dirs ?? []).map(dir);
    const readOnly = (r.read_only_dirs ?? []).map(dir);
    const rule = r.allowed_dirs !== undefined ? "allowed_dirs" : "read_only_dirs";
    const check = (use: PathUse, who: string, via: string[]) => {
      if (use.unknown || !use.word) return void deny.push(say(rule, `"${who}" ${use.unknown ?? "touches an unknown path"}`, use.at, via));
      const { paths, error } = resolver.candidates(use.word, use.cwds);
      if (error) return void deny.push(say(rule, `"${who}" ${error}`, use.at, via));
      for (const lexical of paths) {
        const normal = path.resolve(lexical);
        if ((use.mode === "write" ? ALWAYS_WRITABLE : ALWAYS_READABLE).has(normal)) continue;
        const real = use.noFollow ? resolver.realNoFollow(lexical) : resolver.real(lexical);
        const shown = real === normal ? real : `${normal} (${real})`;
        if (use.mode === "write") {
          if (allowed.some((d) => inside(real, d))) continue;
          const inRo = readOnly.some((d) => inside(real, d));
          deny.push(say(inRo ? "read_only_dirs" : rule, `"${who}" writes ${shown}`, use.at, via, inRo ? "read-only" : r.allowed_dirs ? "outside allowed_dirs" : "no allowed_dirs"));
        } else if (!allowed.some((d) => inside(real, d)) && !readOnly.some((d) => inside(real, d))) {
          deny.push(say(rule, `"${who}" reads ${shown}`, use.at, via, "outside allowed_dirs and read_only_dirs"));
        }
      }
    };
    for (const c of ex.commands) {
      if (c.wrapper?.remote && c.carried) deny.push(say(rule, `"${c.name}" runs commands on another machine, whose paths cannot be checked`, c.at, c.via));
      for (const use of usesOf(c)) check(use, c.name, c.via);
    }
    for (const { redirect, cwds } of ex.redirects) {
      const use = redirectUse(redirect, cwds);
      if (use) check(use, "redirect", []);
    }
  }

  /** A forbidden_commands / require_approval entry, with its examples checked once. */
  private entry(entry: CommandEntry, where: string, cwd: string, home: string): CompiledEntry {
    const key = JSON.stringify(entry);
    const hit = this.entries.get(key);
    if (hit) return hit;
    const source = typeof entry === "string" ? entry : entry.command;
    let pattern: Pattern;
    try {
      pattern = parsePattern(source);
    } catch (err) {
      throw new PolicyConfigError((err as Error).message, where);
    }
    const compiled: CompiledEntry = { source, pattern, reason: typeof entry === "string" ? undefined : entry.reason };
    if (typeof entry !== "string") {
      const env: MatchEnv = { flags: this.rules.flags, singleDash: this.rules.singleDash, home };
      const matches = (example: string) => this.extract(example, { cwd, home }).commands.some((c) => matchPattern(pattern, c, env, true));
      (entry.match ?? []).forEach((ex, i) => {
        if (!matches(ex)) throw new PolicyConfigError(`"${source}" does not match its example ${JSON.stringify(ex)}`, `${where}.match[${i}]`);
      });
      (entry.not_match ?? []).forEach((ex, i) => {
        if (matches(ex)) throw new PolicyConfigError(`"${source}" matches its not_match example ${JSON.stringify(ex)}`, `${where}.not_match[${i}]`);
      });
    }
    if (this.entries.size > 1000) this.entries.clear();
    this.entries.set(key, compiled);
    return compiled;
  }
}

function alwaysWritable(use: PathUse): boolean {
  return !!use.word && use.word.literal && use.word.value.startsWith("/") && ALWAYS_WRITABLE.has(path.resolve(use.word.value));
}

function label(c: Cmd, hit: { pattern: Pattern; subcommand?: string }): string {
  if (hit.subcommand) return `${c.name} ${hit.subcommand}`;
  return hit.pattern.words.length > 0 && !hit.pattern.words.some((w) => /[*?]/.test(w)) ? hit.pattern.source : c.name;
}

function short(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}

/** offset → "line:column" (1-based) in `source`. */
function positions(source: string): (offset: number) => string {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === "\n") starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return `${lo + 1}:${offset - starts[lo]! + 1}`;
  };
}

function commandJson(c: Cmd, at: (offset: number) => string): FoundCommand {
  const out: FoundCommand = { name: c.name, args: c.args.map((a) => a.value), at: at(c.at), text: c.text };
  if (c.via.length > 0) out.via = c.via;
  if (c.literal && c.nameWord.value !== c.name) out.path = c.nameWord.value;
  if (!c.literal) out.literal = false;
  if (c.redirects.length > 0) out.redirects = c.redirects.map((r) => ({ op: r.op, target: r.target ? r.target.value : null }));
  return out;
}

const FLAG_KEYS = new Set(["no_sudo", "no_delete", "dry_run"]);
const DIR_KEYS = new Set(["allowed_dirs", "read_only_dirs"]);
const ENTRY_KEYS = new Set(["forbidden_commands", "require_approval"]);

/**
 * The common shape (a plain object of booleans and arrays of non-empty strings) validated by hand,
 * with exactly the result of the schema; anything else (objects as entries, a wrong type, an
 * unknown key, an explicit undefined) returns undefined and goes through the schema.
 */
function plainRestrictions(input: unknown): ParsedRestrictions | undefined {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input)) return undefined;
  const proto = Object.getPrototypeOf(input) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    const value = (input as Record<string, unknown>)[key];
    if (FLAG_KEYS.has(key)) {
      if (typeof value !== "boolean") return undefined;
      out[key] = value;
    } else if (DIR_KEYS.has(key) || ENTRY_KEYS.has(key)) {
      if (!Array.isArray(value)) return undefined;
      const trim = ENTRY_KEYS.has(key);
      const list: string[] = [];
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return undefined;
        const item: unknown = value[i];
        if (typeof item !== "string") return undefined;
        const v = trim ? item.trim() : item;
        if (v.length === 0) return undefined;
        list.push(v);
      }
      out[key] = list;
    } else return undefined;
  }
  return out as ParsedRestrictions;
}

/** Validates restrictions; a bad field throws PolicyConfigError naming it (`allowed_dirs[0]`). */
export function parseRestrictions(input: unknown): ParsedRestrictions {
  const plain = plainRestrictions(input);
  if (plain) return plain;
  const parsed = Restrictions.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
  throw new PolicyConfigError(issue.message, where);
}

let builtin: Promise<Policy> | undefined;

/**
 * The policy with the built-in rules (loaded and verified once), or with `files` instead of them.
 * Rejects with PolicyRuleError when a rule file is malformed or one of its examples misbehaves.
 */
export function loadPolicy(files?: readonly RuleFile[]): Promise<Policy> {
  if (files) return loadBashParser().then((parser) => new Policy(compileRules([...files], parser, BUILTIN_RULE_FILES), parser));
  builtin ??= loadBashParser()
    .then((parser) => new Policy(compileRules([...BUILTIN_RULE_FILES], parser, BUILTIN_RULE_FILES), parser))
    .catch((err) => {
      builtin = undefined;
      throw err;
    });
  return builtin;
}

/** DESIGN §9: the decision for one command string. Async only because the parser loads lazily. */
export async function checkCommand(command: string, restrictions: Restrictions | unknown, opts: CheckOptions): Promise<PolicyDecision> {
  return (await loadPolicy()).check(command, restrictions, opts);
}
