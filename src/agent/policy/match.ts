// Matching a simple command against a pattern such as "rm -rf /" (DESIGN §9 rule 5): the names are
// equal (by basename) and every further word of the pattern occurs among the command's arguments.
// Short-flag clusters compare as sets of letters (-rf = -fr = -r -f, with per-command synonyms:
// rm --recursive = -r); path-like words compare as normalised paths (/ = // = /tmp/.. , and a
// glob such as /* counts as its directory); a pattern word may use * and ? as wildcards.
//
// Two modes: "could it match" (deny and ask rules: a non-literal argument such as $X could be any
// word, so it counts as a possible match) and "does it surely match" (the read-only allowlist).
import { posix as path } from "node:path";
import { parseArgs, type OptionSpec } from "./options.js";
import type { Cmd } from "./extract.js";
import { basename, hasGlob, hasTilde, unescapePattern } from "./words.js";

export interface Pattern {
  source: string;
  name: string;
  words: string[];
}

export interface MatchEnv {
  /** Per command name: option → the short letter it means (`--recursive` → `r`). */
  flags: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Commands whose single-dash words are long options (find -delete). */
  singleDash: ReadonlySet<string>;
  home: string;
}

/** Splits a pattern like a shell would split a simple command (quotes, backslashes). */
export function parsePattern(source: string): Pattern {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < source.length) cur += source[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < source.length) {
      cur += source[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  if (words.length === 0) throw new Error(`empty pattern ${JSON.stringify(source)}`);
  return { source, name: basename(words[0]!), words: words.slice(1) };
}

type Presence = "yes" | "maybe" | "no";

interface ArgInfo {
  exact: Set<string>;
  letters: Set<string>;
  paths: Set<string>;
  globDirs: Set<string>;
  wild: boolean;
}

const infoCache = new WeakMap<Cmd, ArgInfo>();

const CLUSTER = /^-[A-Za-z0-9]+$/;
const WILDCARD = /[*?]/;

function isPathLike(v: string): boolean {
  return v.startsWith("/") || v.startsWith("~") || v === "." || v === ".." || v.startsWith("./") || v.startsWith("../");
}

function argInfo(cmd: Cmd, env: MatchEnv): ArgInfo {
  let info = infoCache.get(cmd);
  if (info) return info;
  info = { exact: new Set(), letters: new Set(), paths: new Set(), globDirs: new Set(), wild: false };
  const aliases = env.flags.get(cmd.name) ?? {};
  const clusters = !env.singleDash.has(cmd.name);
  let afterDashDash = false;
  const args = cmd.own !== undefined && cmd.carried ? cmd.args.slice(0, cmd.own) : cmd.args;
  for (const a of args) {
    if (!a.literal) {
      info.wild = true;
      continue;
    }
    const v = a.value;
    info.exact.add(v);
    if (v === "--") afterDashDash = true;
    if (!afterDashDash) {
      if (aliases[v]) info.letters.add(aliases[v]);
      const eq = v.indexOf("=");
      if (v.startsWith("--") && eq > 0 && aliases[v.slice(0, eq)]) info.letters.add(aliases[v.slice(0, eq)]!);
      if (clusters && CLUSTER.test(v)) for (const l of v.slice(1)) info.letters.add(aliases[`-${l}`] ?? l);
    }
    if (isPathLike(v) || (cmd.cwds && !v.startsWith("-") && v !== "")) {
      for (const p of normalisedPaths(v, hasTilde(a), cmd, env)) info.paths.add(p);
      if (hasGlob(a)) {
        const dir = unescapePattern(a.pattern.slice(0, Math.max(0, a.pattern.lastIndexOf("/"))));
        if (a.pattern.lastIndexOf("/") >= 0) for (const p of normalisedPaths(dir === "" ? "/" : dir, hasTilde(a), cmd, env)) info.globDirs.add(p);
      }
    }
  }
  infoCache.set(cmd, info);
  return info;
}

/** Lexically normalised absolute forms of a path word (relative ones against each working directory). */
function normalisedPaths(v: string, tilde: boolean, cmd: Cmd, env: MatchEnv): string[] {
  if (tilde && (v === "~" || v.startsWith("~/"))) return [path.resolve(env.home + v.slice(1))];
  if (v.startsWith("/")) return [path.resolve(v)];
  return (cmd.cwds ?? []).map((c) => path.resolve(c, v));
}

const regexps = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  const hit = regexps.get(glob);
  if (hit) return hit;
  let re = "";
  for (const c of glob) re += c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
  const compiled = new RegExp(`^${re}$`);
  if (regexps.size > 1000) regexps.clear();
  regexps.set(glob, compiled);
  return compiled;
}

/** Whether a pattern word occurs among the command's arguments. */
export function wordPresence(word: string, cmd: Cmd, env: MatchEnv): Presence {
  const info = argInfo(cmd, env);
  const aliases = env.flags.get(cmd.name) ?? {};
  if (WILDCARD.test(word) && !CLUSTER.test(word)) {
    const re = globToRegExp(word);
    for (const v of info.exact) if (re.test(v)) return "yes";
  } else if (info.exact.has(word)) return "yes";
  if (!env.singleDash.has(cmd.name) && CLUSTER.test(word) && !WILDCARD.test(word)) {
    const letters = [...word.slice(1)].map((l) => aliases[`-${l}`] ?? l);
    if (letters.every((l) => info.letters.has(l))) return "yes";
  } else if (aliases[word] && info.letters.has(aliases[word]!)) return "yes";
  if (isPathLike(word) && !WILDCARD.test(word)) {
    const wanted = word === "~" || word.startsWith("~/") ? path.resolve(env.home + word.slice(1)) : word.startsWith("/") ? path.resolve(word) : null;
    const candidates = wanted ? [wanted] : (cmd.cwds ?? []).map((c) => path.resolve(c, word));
    if (candidates.some((p) => info.paths.has(p) || info.globDirs.has(p))) return "yes";
  }
  return info.wild ? "maybe" : "no";
}

/** Whether `pattern` matches `cmd`; `couldMatch` counts non-literal arguments as possible matches. */
export function matchPattern(pattern: Pattern, cmd: Cmd, env: MatchEnv, couldMatch: boolean): boolean {
  if (!cmd.literal || cmd.name !== pattern.name) return false;
  for (const w of pattern.words) {
    const p = wordPresence(w, cmd, env);
    if (p === "no" || (p === "maybe" && !couldMatch)) return false;
  }
  return true;
}

export interface CommandCondition {
  patterns: Pattern[];
  options?: OptionSpec;
  subcommands?: string[];
  globalOptions?: string[];
  unless?: string[];
  maxOperands?: number;
  firstOperand?: RegExp;
}

/**
 * Whether a command rule matches `cmd`. Returns the pattern that matched (for the reason text), or
 * null. With `couldMatch` (deny/ask) uncertainty counts as a match; without (allowlist) as none.
 */
export function matchCondition(rule: CommandCondition, cmd: Cmd, env: MatchEnv, couldMatch: boolean): { pattern: Pattern; subcommand?: string } | null {
  if (!cmd.literal) return null;
  const pattern = rule.patterns.find((p) => matchPattern(p, cmd, env, couldMatch));
  if (!pattern) return null;
  const args = cmd.own !== undefined && cmd.carried ? cmd.args.slice(0, cmd.own) : cmd.args;
  let subcommand: string | undefined;
  if (rule.subcommands || rule.globalOptions) {
    const parsed = parseArgs(args, rule.options ?? {}, false);
    if (rule.globalOptions && !parsed.opts.some((o) => rule.globalOptions!.includes(o.name))) return null;
    if (rule.subcommands) {
      const sub = args[parsed.end];
      if (!sub) return null;
      if (!sub.literal) {
        if (!couldMatch) return null;
        subcommand = sub.text;
      } else if (!rule.subcommands.includes(sub.value)) return null;
      else subcommand = sub.value;
    }
  }
  if (rule.unless) {
    for (const w of rule.unless) {
      const p = wordPresence(w, cmd, env);
      if (p === "yes" || (p === "maybe" && !couldMatch)) return null;
    }
  }
  if (rule.maxOperands !== undefined || rule.firstOperand) {
    const parsed = parseArgs(args, rule.options ?? {}, true);
    if (rule.maxOperands !== undefined && parsed.operands.length > rule.maxOperands) return null;
    if (rule.firstOperand) {
      const first = parsed.operands[0];
      if (!first || !first.literal) {
        if (!couldMatch) return null;
      } else if (!rule.firstOperand.test(first.value)) return null;
    }
  }
  return { pattern, subcommand };
}

/** A `*`-glob over variable names (`LD_*`). */
export function nameMatches(glob: string, name: string): boolean {
  return glob.includes("*") ? globToRegExp(glob).test(name) : glob === name;
}
