// DESIGN §9 rule 6: the paths a simple command touches (path-like arguments, file operands of known
// commands, redirect targets, cd targets) and whether it writes them; then each path resolved the
// way the kernel will see it — against the working directory, ~ expanded, braces expanded, `..`
// applied after symlinks (realpath of the longest existing prefix) — and compared segment-wise
// with allowed_dirs / read_only_dirs.
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { posix as path } from "node:path";
import type { Cmd, Cwds, Redirect } from "./extract.js";
import { hasOpt, parseArgs, type ParsedArgs } from "./options.js";
import type { FileRule } from "./rule-schema.js";
import { GIT_OPTIONS, GIT_WRITE_SUBCOMMANDS } from "./rules/git.js";
import { escapeAll, expandBraces, hasGlob, quote, syntheticWord, unescapePattern, wordTail, type Word } from "./words.js";

export interface PathUse {
  mode: "read" | "write";
  /** The path as written (null when `unknown`). */
  word: Word | null;
  at: number;
  cwds: Cwds;
  /** Why the path cannot be known (a non-literal word, operands read from stdin…). */
  unknown?: string;
  /** Where it came from: a redirect, or the command's arguments. */
  from: "redirect" | "args";
  /** A symlink as its last component is not followed (rm x removes the link x). */
  noFollow?: boolean;
}

/** Paths that are always allowed: writes to these, and reads of these plus the read-only devices. */
export const ALWAYS_WRITABLE = new Set(["/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd/1", "/dev/fd/2"]);
export const ALWAYS_READABLE = new Set([...ALWAYS_WRITABLE, "/dev/stdin", "/dev/fd/0", "/dev/zero", "/dev/random", "/dev/urandom"]);

const URL = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;

export function looksLikePath(v: string): boolean {
  return v === "." || v === ".." || v.startsWith("/") || v.startsWith("~") || v.includes("/");
}

export function redirectUse(r: Redirect, cwds: Cwds): PathUse | null {
  if (!r.mode) return null;
  if (!r.target) return null;
  if (!r.target.literal) return { mode: r.mode, word: null, at: r.at, cwds, unknown: `redirects to ${quote(r.target.text)}, which is not a literal path`, from: "redirect" };
  return { mode: r.mode, word: r.target, at: r.at, cwds, from: "redirect" };
}

/** Every path a command touches. */
export function pathUses(cmd: Cmd, files: ReadonlyMap<string, FileRule>): PathUse[] {
  const out: PathUse[] = [];
  if (cmd.remote) return out;
  for (const r of cmd.redirects) {
    const use = redirectUse(r, cmd.cwds);
    if (use) out.push(use);
  }
  if (!cmd.literal) return out;
  const rule = files.get(cmd.name);
  // A wrapper's carried words are checked as their own command; a wrapper only has path options.
  if (cmd.wrapper && cmd.carried && !rule) return out;
  const words = cmd.wrapper && cmd.own !== undefined ? cmd.args.slice(0, cmd.own) : cmd.args;
  const uses: { mode: "read" | "write"; word: Word }[] = [];
  const unknown: { word: Word; mode: "read" | "write" }[] = [];
  const add = (mode: "read" | "write", word: Word) => {
    if (!word.literal) unknown.push({ word, mode });
    else if (word.value !== "-" && word.value !== "") uses.push({ mode, word });
  };
  const operandsOnly = rule?.noFollow ? new Set(cmd.args) : null;
  if (rule) ruleUses(rule, cmd, words, add);
  else shapeUses(words, add, unknown);
  // A file:// URL is a local file, whatever the command (curl file:///etc/passwd).
  for (const w of words) if (w.literal && /^file:\/\//i.test(w.value)) add("read", wordTail(w, 7));
  for (const { mode, word } of uses) {
    // find -exec CMD {}: `{}` is a path under find's roots.
    if (cmd.placeholder && word.value.includes(cmd.placeholder.token)) {
      if (!cmd.placeholder.roots) out.push({ mode, word: null, at: word.at, cwds: cmd.cwds, unknown: `operand ${quote(word.text)} is a path find chooses`, from: "args" });
      else
        for (const root of cmd.placeholder.roots) {
          if (!root.literal) out.push({ mode, word: null, at: word.at, cwds: cmd.cwds, unknown: `find root ${quote(root.text)} is not a literal path`, from: "args" });
          else out.push({ mode, word: syntheticWord(word.value.split(cmd.placeholder.token).join(root.value), word.at, root.pattern === root.value), at: word.at, cwds: cmd.cwds, from: "args" });
        }
      continue;
    }
    out.push({ mode, word, at: word.at, cwds: cmd.cwds, from: "args", ...(operandsOnly?.has(word) ? { noFollow: true } : {}) });
  }
  for (const { word, mode } of unknown) out.push({ mode, word: null, at: word.at, cwds: cmd.cwds, unknown: `path ${quote(word.text)} is not a literal word`, from: "args" });
  if (cmd.stdinOperands && rule && (rule.operands ?? "all") !== "none")
    out.push({ mode: rule.writes && rule.writes !== "none" ? "write" : "read", word: null, at: cmd.at, cwds: cmd.cwds, unknown: "takes its operands from stdin (xargs)", from: "args" });
  return out;
}

/** Commands without a file rule: path-like arguments are reads. */
function shapeUses(words: Word[], add: (mode: "read" | "write", w: Word) => void, unknown: { word: Word; mode: "read" | "write" }[]): void {
  for (const w of words) {
    if (!w.literal) {
      if (/^["']?[/~.]|\//.test(w.text)) unknown.push({ word: w, mode: "read" });
      continue;
    }
    const v = w.value;
    if (URL.test(v)) continue;
    const eq = v.indexOf("=");
    if ((v.startsWith("--") || /^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) && eq > 0) {
      if (looksLikePath(v.slice(eq + 1)) && !URL.test(v.slice(eq + 1))) add("read", wordTail(w, eq + 1));
      continue;
    }
    if (v.startsWith("-")) {
      // -I/usr/include, -o/tmp/x: a value glued to a short option.
      const m = /^-[A-Za-z]+([/~.].*)$/.exec(v);
      if (m && looksLikePath(m[1]!)) add("read", wordTail(w, v.length - m[1]!.length));
      continue;
    }
    if (looksLikePath(v)) add("read", w);
  }
}

function ruleUses(rule: FileRule, cmd: Cmd, words: Word[], add: (mode: "read" | "write", w: Word) => void): void {
  switch (rule.special) {
    case "cd": {
      const parsed = parseArgs(words, {}, true);
      const target = parsed.operands[0];
      if (!target) add("read", syntheticWord("~", cmd.at, true));
      else if (target.literal && target.value === "-") add("read", { ...target, literal: false, text: "- (the previous directory)" });
      else add("read", target);
      return;
    }
    case "find": {
      for (const r of cmd.roots ?? []) add("read", r);
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        if (w.literal && ["-fprint", "-fprint0", "-fls", "-fprintf"].includes(w.value) && words[i + 1]) add("write", words[++i]!);
        if (w.literal && ["-exec", "-execdir", "-ok", "-okdir"].includes(w.value)) {
          while (i + 1 < words.length && !(words[i + 1]!.literal && (words[i + 1]!.value === ";" || words[i + 1]!.value === "+"))) i++;
        }
      }
      return;
    }
    case "git": {
      const parsed = parseArgs(words, rule.options ?? GIT_OPTIONS, false);
      const base = parsed.opts.filter((o) => o.name === "-C" && o.value).pop()?.value ?? undefined;
      const sub = words[parsed.end];
      const rest = words.slice(parsed.end + 1);
      const at = (w: Word | undefined) => w ?? syntheticWord(".", cmd.at);
      const under = (w: Word): Word => (base && base.literal && w.literal && !w.value.startsWith("/") ? syntheticWord(`${base.value}/${w.value}`, w.at) : w);
      for (const o of parsed.opts) if ((o.name === "--git-dir" || o.name === "--work-tree") && o.value) add("read", o.value);
      if (!sub) return;
      if (!sub.literal) return add("write", at(base));
      if (sub.value === "clone") {
        const operands = parseArgs(rest, { shortValue: "obujc", longValue: ["origin", "branch", "upload-pack", "reference", "separate-git-dir", "depth", "config", "template", "filter"] }, true).operands;
        add("write", operands[1] ? under(operands[1]) : at(base));
        return;
      }
      add(GIT_WRITE_SUBCOMMANDS.includes(sub.value) ? "write" : "read", at(base));
      const dd = rest.findIndex((w) => w.literal && w.value === "--");
      if (dd >= 0) for (const w of rest.slice(dd + 1)) add(GIT_WRITE_SUBCOMMANDS.includes(sub.value) ? "write" : "read", under(w));
      return;
    }
    case "mktemp": {
      const parsed = parseArgs(words, rule.options ?? {}, true);
      const dir = parsed.opts.filter((o) => (o.name === "-p" || o.name === "--tmpdir") && o.value).pop()?.value;
      const template = parsed.operands[0];
      if (template && !dir && template.literal && template.value.includes("/")) return add("write", template);
      const base = dir ?? syntheticWord(process.env.TMPDIR || "/tmp", cmd.at);
      if (!template || !base.literal) return add("write", base);
      if (!template.literal) return add("write", template);
      add("write", syntheticWord(`${base.value.replace(/\/$/, "")}/${template.value}`, template.at));
      return;
    }
    case "tar":
      return tarUses(rule, words, cmd, add);
    case "ln": {
      const parsed = parseArgs(words, rule.options ?? {}, true);
      pathOptionUses(rule, parsed, add);
      const targetDir = parsed.opts.some((o) => (o.name === "-t" || o.name === "--target-directory") && o.value);
      const symbolic = hasOpt(parsed, ["-s", "--symbolic"]);
      const ops = parsed.operands;
      if (targetDir) return ops.forEach((w) => add("read", w));
      if (ops.length === 1) {
        add("write", syntheticWord(".", cmd.at));
        add("read", ops[0]!);
        return;
      }
      const link = ops[ops.length - 1];
      if (!link) return;
      add("write", link);
      for (const t of ops.slice(0, -1)) {
        add("read", t);
        // A relative symlink target is relative to the link's directory, not to ours.
        if (symbolic && t.literal && link.literal && !t.value.startsWith("/") && !t.value.startsWith("~")) {
          const dir = link.value.includes("/") ? link.value.slice(0, link.value.lastIndexOf("/")) : ".";
          if (dir !== ".") add("read", syntheticWord(`${dir}/${t.value}`, t.at));
          add("read", syntheticWord(`${link.value.replace(/\/$/, "")}/${t.value}`, t.at));
        }
      }
      return;
    }
    default:
      break;
  }
  // Words that look like options but are operands (chmod -x f).
  const forced = rule.operandRegex ? operandRegExp(rule.operandRegex) : null;
  const marked = forced ? words.map((w) => (w.literal && w.value.startsWith("-") && forced.test(w.value) ? { ...w, literal: false, forcedOperand: w } : w)) : words;
  const parsed = parseArgs(marked, rule.options ?? {}, true);
  parsed.operands = parsed.operands.map((w) => ((w as Word & { forcedOperand?: Word }).forcedOperand ?? w));
  const has = (names?: string[]) => !!names && hasOpt(parsed, names);
  pathOptionUses(rule, parsed, add);
  let operands = parsed.operands;
  if (rule.skip && !has(rule.skipUnless)) operands = operands.slice(rule.skip);
  const which = rule.operands ?? "all";
  if (rule.keyPaths) {
    for (const w of operands) {
      const eq = w.literal ? w.value.indexOf("=") : -1;
      const mode = eq > 0 ? rule.keyPaths[w.value.slice(0, eq)] : undefined;
      if (mode) add(mode, wordTail(w, eq + 1));
    }
  }
  if (which === "none") {
    implicit(rule, has, cmd, add);
    return;
  }
  if (which === "first") operands = operands.slice(0, 1);
  let writes = rule.writes ?? "none";
  if (rule.writesWith && !has(rule.writesWith)) writes = "none";
  if (rule.writesUnless && has(rule.writesUnless)) writes = "none";
  if (rule.writesAllWith && has(rule.writesAllWith)) writes = "all";
  const targetGiven = Object.entries(rule.pathOptions ?? {}).some(([name, mode]) => mode === "write" && parsed.opts.some((o) => o.name === name && o.value));
  if (writes === "last" && targetGiven) writes = "none";
  operands.forEach((w, i) => {
    if (rule.remoteOperands && w.literal && /^[^/]*:/.test(w.value) && !w.value.startsWith("./")) return;
    const write = writes === "all" || (writes === "last" && i === operands.length - 1) || (writes === "first" && i === 0) || (writes === "second" && i === 1);
    add(write ? "write" : "read", w);
  });
  implicit(rule, has, cmd, add);
}

const operandRegExps = new Map<string, RegExp>();

/** A rule's operandRegex, compiled once (the rules are fixed once loaded; the map stays small). */
function operandRegExp(source: string): RegExp {
  let re = operandRegExps.get(source);
  if (!re) {
    if (operandRegExps.size > 256) operandRegExps.clear();
    operandRegExps.set(source, (re = new RegExp(source)));
  }
  return re;
}

function implicit(rule: FileRule, has: (names?: string[]) => boolean, cmd: Cmd, add: (mode: "read" | "write", w: Word) => void): void {
  const iw = rule.implicitWrite;
  if (!iw) return;
  if ((iw.with ? has(iw.with) : true) && !(iw.unless && has(iw.unless))) add("write", syntheticWord(".", cmd.at));
}

function pathOptionUses(rule: FileRule, parsed: ParsedArgs, add: (mode: "read" | "write", w: Word) => void): void {
  if (!rule.pathOptions) return;
  for (const o of parsed.opts) {
    const mode = rule.pathOptions[o.name];
    if (!mode || !o.value) continue;
    if (mode !== "read@") {
      add(mode, o.value);
      continue;
    }
    // curl -d @FILE, -F name=@FILE / name=<FILE: a file only after the @ (or <).
    const v = o.value;
    if (!v.literal) {
      if (v.text.includes("@") || v.text.includes("<")) add("read", v);
      continue;
    }
    if (v.value.startsWith("@")) add("read", wordTail(v, 1));
    else {
      const m = /=[@<]/.exec(v.value);
      if (m) add("read", wordTail(v, m.index + 2));
    }
  }
}

function tarUses(rule: FileRule, words: Word[], cmd: Cmd, add: (mode: "read" | "write", w: Word) => void): void {
  // Old style: `tar czf out.tgz src` is `tar -czf out.tgz src`.
  const first = words[0];
  const list = first && first.literal && /^[A-Za-z]+$/.test(first.value) ? [{ ...first, value: `-${first.value}`, pattern: `-${first.value}` }, ...words.slice(1)] : words;
  const parsed = parseArgs(list, rule.options ?? {}, true);
  const has = (names: string[]) => hasOpt(parsed, names);
  const create = has(["-c", "--create", "-r", "--append", "-u", "--update", "-A", "--catenate", "--concatenate"]);
  const extract = has(["-x", "--extract", "--get"]);
  const file = parsed.opts.filter((o) => (o.name === "-f" || o.name === "--file") && o.value).pop()?.value;
  const dir = parsed.opts.filter((o) => (o.name === "-C" || o.name === "--directory") && o.value).pop()?.value;
  pathOptionUses(rule, parsed, add);
  if (file) add(create ? "write" : "read", file);
  if (extract) add("write", dir ?? syntheticWord(".", cmd.at));
  else if (dir) add("read", dir);
  if (create) for (const w of parsed.operands) add("read", dir && dir.literal && w.literal && !w.value.startsWith("/") ? syntheticWord(`${dir.value}/${w.value}`, w.at) : w);
}

// ---------------------------------------------------------------------------------------------
// Resolution

export interface Resolved {
  /** Absolute real paths the use may designate (one per working directory and brace alternative). */
  paths: string[];
  /** Why it could not be resolved. */
  error?: string;
}

export class PathResolver {
  private cache = new Map<string, string>();
  private prefixes = new Map<string, string | null>();
  constructor(private readonly home: string) {}

  /** Like real(), but a symlink as last component stays itself (the link, not its target). */
  realNoFollow(p: string): string {
    const slash = p.lastIndexOf("/");
    const last = p.slice(slash + 1);
    if (last === "" || last === "." || last === ".." || slash < 0) return this.real(p);
    return path.join(this.real(p.slice(0, slash) || "/"), last);
  }

  /** Real path of an absolute path: realpath of its longest existing prefix, then the rest lexically. */
  real(p: string): string {
    const hit = this.cache.get(p);
    if (hit !== undefined) return hit;
    const parts = p.split("/").filter((s) => s !== "");
    let result: string | undefined;
    for (let k = parts.length; k >= 0; k--) {
      const real = this.realPrefix(k === 0 ? "/" : `/${parts.slice(0, k).join("/")}`);
      if (real === null) continue; // not there (or not reachable): try a shorter prefix
      result = k === parts.length ? real : path.resolve(real, ...parts.slice(k));
      break;
    }
    result ??= path.resolve(p);
    this.cache.set(p, result);
    return result;
  }

  /**
   * realpath of an absolute path, or null when it does not resolve. Asked once per path and
   * resolver (one decision): existsSync first, since a realpath that fails throws, which costs
   * several times the system call; a path that exists but still fails realpath counts as missing.
   */
  private realPrefix(prefix: string): string | null {
    const hit = this.prefixes.get(prefix);
    if (hit !== undefined) return hit;
    let real: string | null = null;
    if (existsSync(prefix)) {
      try {
        real = realpathSync.native(prefix);
      } catch {
        real = null;
      }
    }
    this.prefixes.set(prefix, real);
    return real;
  }

  /**
   * The absolute paths a word may designate, before symlinks are resolved: braces expanded, ~
   * expanded, relative ones joined to each working directory, and globs expanded against the
   * file system (a glob can reach through a symlink to another directory).
   */
  candidates(word: Word, cwds: Cwds): Resolved {
    const alternatives = expandBraces(word.pattern);
    if (!alternatives) return { paths: [], error: `${quote(word.text)} expands to too many paths` };
    const out: string[] = [];
    for (const alt of alternatives) {
      for (const variant of dotGlobVariants(alt)) {
        let bases: string[];
        let rest = variant;
        if (variant.startsWith("~")) {
          const m = /^~([^/]*)(.*)$/.exec(variant)!;
          const user = unescapePattern(m[1]!);
          rest = m[2]!;
          if (user === "") bases = [this.home];
          else if (user === "root") bases = ["/root"];
          else if (user === "+" && cwds) bases = cwds;
          else return { paths: [], error: `${quote(word.text)}: cannot tell where ~${user} is` };
        } else if (variant.startsWith("/")) bases = [""];
        else if (!cwds) return { paths: [], error: `${quote(word.text)} is relative and the working directory is not known` };
        else {
          bases = cwds;
          rest = `/${variant}`;
        }
        for (const base of bases) {
          const pattern = escapeAll(base) + rest;
          if (hasGlob({ pattern } as Word)) {
            const matches = globFiles(pattern);
            if (!matches) return { paths: [], error: `${quote(word.text)} matches too many files` };
            if (matches.length > 0) {
              out.push(...matches);
              continue;
            }
          }
          out.push(unescapePattern(pattern));
        }
      }
    }
    return { paths: out };
  }
}

/** Expands an absolute glob pattern against the file system (null: too many matches; []: none). */
function globFiles(pattern: string, limit = 256): string[] | null {
  let current = [""];
  for (const seg of pattern.split("/").filter((x) => x !== "")) {
    if (!hasGlob({ pattern: seg } as Word)) {
      const literal = unescapePattern(seg);
      current = current.map((c) => `${c}/${literal}`);
      continue;
    }
    const re = segmentRegExp(seg);
    const next: string[] = [];
    for (const dir of current) {
      let names: string[];
      try {
        names = readdirSync(dir === "" ? "/" : dir);
      } catch {
        continue;
      }
      for (const name of names) if (re.test(name) && (!name.startsWith(".") || seg.startsWith("."))) next.push(`${dir}/${name}`);
      if (next.length > limit) return null;
    }
    if (next.length === 0) return [];
    current = next;
  }
  return current;
}

/** One escaped glob segment as a regular expression (* ? [...] and backslash escapes). */
function segmentRegExp(seg: string): RegExp {
  let re = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "\\" && i + 1 < seg.length) re += escapeRe(seg[++i]!);
    else if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const close = seg.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        let body = seg.slice(i + 1, close);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\(.)/g, "$1").replace(/[\]\\]/g, "\\$&")}]`;
        i = close;
      }
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** A glob segment starting with a dot (`.*`) can match `..`: also try that segment as `..`. */
function dotGlobVariants(pattern: string): string[] {
  if (!hasGlob({ pattern } as Word)) return [pattern];
  const segments = pattern.split("/");
  const risky = segments.map((s) => s.startsWith(".") && hasGlob({ pattern: s } as Word));
  if (!risky.some(Boolean)) return [pattern];
  return [pattern, segments.map((s, i) => (risky[i] ? ".." : s)).join("/")];
}

/** Whether `p` is `dir` or lies under it, by path segments. */
export function inside(p: string, dir: string): boolean {
  if (dir === "/") return true;
  return p === dir || p.startsWith(`${dir}/`);
}
