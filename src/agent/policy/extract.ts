// DESIGN §9 rule 1: every simple command of a bash command string, wherever it sits (lists,
// pipelines, subshells, $(…), `…`, <(…), if/for/while/case, function bodies, heredoc bodies), and
// every command carried by a wrapper (sudo CMD, bash -c STR, find -exec CMD ;, xargs CMD, ssh HOST
// CMD…), re-read recursively. The working directory is tracked through `cd` as a set of candidate
// directories (`cd a || cd b` leaves two), or null when it cannot be known.
//
// The walk only records; it does not judge. What it cannot see through (a non-literal command
// name, a shell reading its script from stdin, a parse error…) becomes an Issue, which the
// decision turns into a deny when any restriction is set (rule 2).
import { posix as path } from "node:path";
import { parseArgs } from "./options.js";
import type { BashParser, SyntaxNode } from "./parser.js";
import type { WrapperRule } from "./rule-schema.js";
import { basename, hasBraces, hasGlob, hasTilde, quote, syntheticWord, wordOf, type Origin, type Word } from "./words.js";

/** Candidate working directories (lexical absolute paths), or null when unknown. */
export type Cwds = string[] | null;

export interface Redirect {
  /** `>`, `>>`, `<`, `&>`, `<<`, `<<<`… */
  op: string;
  target: Word | null;
  /** What it does to `target`: null for fd duplication, heredocs, here-strings, process substitutions. */
  mode: "read" | "write" | null;
  at: number;
  heredoc?: boolean;
  herestring?: boolean;
}

export interface Assignment {
  name: string;
  at: number;
}

export interface Cmd {
  /** Basename of the literal command name, or its text when not literal. */
  name: string;
  literal: boolean;
  nameWord: Word;
  args: Word[];
  redirects: Redirect[];
  assignments: Assignment[];
  at: number;
  text: string;
  /** The wrappers carrying it, outermost first. */
  via: string[];
  cwds: Cwds;
  /** For a wrapper: how many of `args` are its own (the rest is the carried command or script). */
  own?: number;
  wrapper?: WrapperRule;
  /** A wrapper that carried a command or a script. */
  carried?: boolean;
  /** Operands also come from stdin (carried by xargs). */
  stdinOperands?: boolean;
  /** `{}` of find -exec: stands for paths under find's roots (null: unknown, -execdir). */
  placeholder?: { token: string; roots: Word[] | null };
  /** find's starting points. */
  roots?: Word[];
  /** Runs on another machine (carried by ssh). */
  remote?: boolean;
}

export interface Issue {
  message: string;
  at: number;
}

export interface Extraction {
  commands: Cmd[];
  issues: Issue[];
  /** Redirects of compound statements (`{ a; b; } > f`, `while …; done < f`) and where they apply. */
  redirects: { redirect: Redirect; cwds: Cwds; at: number }[];
  /** Assignments that are statements of their own (`PATH=/x`, `a[$(rm x)]=1`). */
  assignments: Assignment[];
}

export interface ExtractEnv {
  parser: BashParser;
  wrappers: ReadonlyMap<string, WrapperRule>;
  cwd: string;
  home: string;
}

interface Ctx {
  source: string;
  origin: Origin;
  /** Whether `origin` maps offsets one to one (the script is the text of a single plain word). */
  linear: boolean;
  via: string[];
  remote: boolean;
  depth: number;
  /** Offsets of line continuations glued to tokens on both sides, not yet explained (see command()). */
  glued?: Set<number>;
}

interface ArgvInfo {
  redirects: Redirect[];
  assignments: Assignment[];
  text?: string;
  stdinOperands?: boolean;
  placeholder?: Cmd["placeholder"];
}

const MAX_DEPTH = 12;
/** A line continuation glued to the words on both sides. */
const CONTINUATION = /^(?:\\\n)+$/;
const MAX_CWDS = 8;
/** Wrappers whose carried command runs in the current shell, so a `cd` in it counts. */
const SAME_SHELL = new Set(["command", "builtin", "eval"]);

export function extract(source: string, env: ExtractEnv): Extraction {
  const walker = new Walker(env);
  const origin: Origin = (i) => i;
  walker.script(source, [env.cwd], { source, origin, linear: true, via: [], remote: false, depth: 0 }, 0);
  return { commands: walker.commands, issues: walker.issues, redirects: walker.redirects, assignments: walker.assignments };
}

export function union(...all: Cwds[]): Cwds {
  const out = new Set<string>();
  for (const x of all) {
    if (x === null) return null;
    for (const p of x) out.add(p);
  }
  return out.size > MAX_CWDS ? null : [...out];
}

/** Offsets of `\\<newline>` runs that sit between two tokens with no blank on either side. */
function gluedContinuations(root: SyntaxNode, source: string): Set<number> {
  const out = new Set<number>();
  if (!source.includes("\\\n")) return out;
  let prevEnd = -1;
  const visit = (n: SyntaxNode) => {
    if (n.children.length === 0) {
      if (prevEnd >= 0 && n.start > prevEnd && CONTINUATION.test(source.slice(prevEnd, n.start))) out.add(prevEnd);
      prevEnd = n.end;
      return;
    }
    for (const c of n.children) visit(c);
  };
  visit(root);
  return out;
}

function unseen(root: SyntaxNode, seen: Set<SyntaxNode>): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.type === "command" && !seen.has(n)) out.push(n);
    for (const c of n.children) stack.push(c);
  }
  return out;
}

/** The command a redirect written after a list or pipeline belongs to: its last one. */
function rightmost(n: SyntaxNode): SyntaxNode {
  if (n.type !== "list" && n.type !== "pipeline" && n.type !== "negated_command") return n;
  const kids = n.children.filter((c) => c.named && c.type !== "comment");
  return kids.length > 0 ? rightmost(kids[kids.length - 1]!) : n;
}

function same(a: Cwds, b: Cwds): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x) => b.includes(x));
}

class Walker {
  commands: Cmd[] = [];
  issues: Issue[] = [];
  redirects: Extraction["redirects"] = [];
  assignments: Assignment[] = [];
  /** Functions defined so far, and whether calling them may change the working directory. */
  private functions = new Map<string, boolean>();
  /** > 0 while a loop body is walked only to learn how it moves the working directory. */
  private silent = 0;
  /**
   * Redirects tree-sitter hangs on a whole list or pipeline (`cd /x && echo hi > f` parses as
   * (cd /x && echo hi) > f) belong, in bash, to its last command: they wait here for that node.
   */
  private pending = new Map<SyntaxNode, SyntaxNode[]>();
  /** The command nodes walked, to check that none was missed. */
  private seen = new Set<SyntaxNode>();

  constructor(private readonly env: ExtractEnv) {}

  private issue(message: string, at: number): void {
    if (this.silent === 0) this.issues.push({ message, at });
  }

  private record(cmd: Cmd): void {
    if (this.silent === 0) this.commands.push(cmd);
  }

  script(source: string, st: Cwds, ctx: Ctx, at: number): Cwds {
    if (ctx.depth > MAX_DEPTH) {
      this.issue(`commands nested more than ${MAX_DEPTH} levels deep`, at);
      return st;
    }
    const parsed = this.env.parser.parse(source);
    if (parsed.errorAt >= 0) this.issue("parse error", ctx.origin(parsed.errorAt));
    const glued = gluedContinuations(parsed.root, source);
    const after = this.seq(parsed.root.children, st, { ...ctx, source, glued });
    for (const offset of glued) this.issue("a backslash-newline inside a word", ctx.origin(offset));
    // Safety net: a simple command the walk did not reach (a shape it does not know) fails closed.
    for (const missed of unseen(parsed.root, this.seen)) this.issue("a command in a construct the policy does not follow", ctx.origin(missed.start));
    return after;
  }

  private seq(nodes: SyntaxNode[], st: Cwds, ctx: Ctx): Cwds {
    for (const n of nodes) if (n.named) st = this.node(n, st, ctx);
    return st;
  }

  private node(n: SyntaxNode, st: Cwds, ctx: Ctx): Cwds {
    const late = this.pending.get(n);
    if (late) {
      if (n.type === "command") return this.command(n, st, ctx, late);
      for (const r of late) {
        const redirect = this.redirect(r, st, ctx);
        if (this.silent === 0) this.redirects.push({ redirect, cwds: st, at: redirect.at });
      }
    }
    switch (n.type) {
      case "program":
      case "compound_statement":
      case "do_group":
      case "else_clause":
      case "ERROR":
        return this.seq(n.children, st, ctx);
      case "comment":
        return st;
      case "command":
        return this.command(n, st, ctx, []);
      case "redirected_statement": {
        const body = n.children.find((c) => c.field === "body");
        const reds = n.children.filter((c) => c.field === "redirect");
        if (body?.type === "command") return this.command(body, st, ctx, reds);
        if (body && (body.type === "list" || body.type === "pipeline")) {
          const last = rightmost(body);
          this.pending.set(last, [...(this.pending.get(last) ?? []), ...reds]);
          return this.node(body, st, ctx);
        }
        for (const r of reds) {
          const redirect = this.redirect(r, st, ctx);
          if (this.silent === 0) this.redirects.push({ redirect, cwds: st, at: redirect.at });
        }
        return body ? this.node(body, st, ctx) : st;
      }
      case "list": {
        // left && right, left || right (a comment may sit between the operator and `right`).
        const parts = n.children.filter((c) => c.named && c.type !== "comment");
        const op = n.children.find((c) => !c.named);
        if (parts.length !== 2) return this.seq(n.children, st, ctx);
        const after = this.node(parts[0]!, st, ctx);
        const end = this.node(parts[1]!, after, ctx);
        return op?.type === "||" ? union(after, end) : end;
      }
      case "pipeline":
        // Each part runs in a subshell: a cd inside does not move the caller.
        for (const c of n.children) if (c.named) this.node(c, st, ctx);
        return st;
      case "subshell":
      case "command_substitution":
      case "process_substitution":
        this.seq(n.children, st, ctx);
        return st;
      case "negated_command":
        return this.seq(n.children, st, ctx);
      case "if_statement":
        return this.ifStatement(n, st, ctx);
      case "while_statement": {
        const cond = n.children.filter((c) => c.field === "condition");
        const body = n.children.filter((c) => c.field === "body");
        return this.loop(st, (s) => this.seq(body, this.seq(cond, s, ctx), ctx));
      }
      case "for_statement":
      case "c_style_for_statement": {
        const body = n.children.filter((c) => c.field === "body");
        for (const c of n.children) if (c.named && c.field !== "body") this.node(c, st, ctx);
        return this.loop(st, (s) => this.seq(body, s, ctx));
      }
      case "case_statement": {
        const outs: Cwds[] = [st];
        for (const c of n.children) {
          if (c.type === "case_item") outs.push(this.seq(c.children, st, ctx));
          else if (c.named) this.node(c, st, ctx);
        }
        return union(...outs);
      }
      case "function_definition": {
        const name = n.children.find((c) => c.field === "name");
        const body = n.children.find((c) => c.field === "body");
        if (body) {
          const out = this.node(body, st, ctx);
          if (name) this.functions.set(ctx.source.slice(name.start, name.end), !same(out, st));
        }
        return st;
      }
      case "variable_assignment":
        this.assignment(n, st, ctx, this.assignments);
        return st;
      case "declaration_command":
      case "unset_command":
        this.declaration(n, st, ctx);
        return st;
      default:
        for (const c of n.children) if (c.named) this.node(c, st, ctx);
        return st;
    }
  }

  private ifStatement(n: SyntaxNode, st: Cwds, ctx: Ctx): Cwds {
    // if COND; then BODY; elif COND; then BODY; else BODY; fi — split at the `then` tokens.
    const split = (kids: SyntaxNode[]) => {
      const main = kids.filter((k) => k.type !== "elif_clause" && k.type !== "else_clause");
      const then = main.findIndex((k) => !k.named && k.type === "then");
      return then < 0 ? { cond: main, body: [] } : { cond: main.slice(0, then), body: main.slice(then + 1) };
    };
    const first = split(n.children);
    const afterCond = this.seq(first.cond, st, ctx);
    const outs: Cwds[] = [this.seq(first.body, afterCond, ctx)];
    let hasElse = false;
    let prev = afterCond;
    for (const c of n.children) {
      if (c.type === "elif_clause") {
        const part = split(c.children);
        prev = this.seq(part.cond, prev, ctx);
        outs.push(this.seq(part.body, prev, ctx));
      } else if (c.type === "else_clause") {
        hasElse = true;
        outs.push(this.seq(c.children, prev, ctx));
      }
    }
    if (!hasElse) outs.push(prev);
    return union(...outs);
  }

  /** A loop body runs zero or more times: find the set of directories it can start in, then walk it once for real. */
  private loop(st: Cwds, iterate: (s: Cwds) => Cwds): Cwds {
    this.silent++;
    let entry = st;
    let stable = false;
    try {
      for (let k = 0; k < 3 && !stable; k++) {
        const next = union(entry, iterate(entry));
        stable = same(next, entry);
        entry = next;
      }
    } finally {
      this.silent--;
    }
    if (!stable) entry = null;
    return union(entry, iterate(entry));
  }

  private assignment(n: SyntaxNode, st: Cwds, ctx: Ctx, into: Assignment[]): void {
    const nameNode = n.children.find((c) => c.field === "name");
    const varNode = nameNode?.type === "subscript" ? nameNode.children.find((c) => c.type === "variable_name") : nameNode;
    if (varNode && this.silent === 0) into.push({ name: ctx.source.slice(varNode.start, varNode.end), at: ctx.origin(n.start) });
    for (const c of n.children) if (c.named) this.node(c, st, ctx);
  }

  /** export / declare / local / readonly / typeset / unset: recorded as commands, with their assignments. */
  private declaration(n: SyntaxNode, st: Cwds, ctx: Ctx): void {
    const keyword = n.children[0];
    const assignments: Assignment[] = [];
    const args: Word[] = [];
    for (const c of n.children) {
      if (!c.named) continue;
      if (c.type === "variable_assignment") {
        this.assignment(c, st, ctx, assignments);
        args.push(wordOf(c, ctx.source, ctx.origin));
      } else {
        this.node(c, st, ctx);
        args.push(wordOf(c, ctx.source, ctx.origin));
      }
    }
    if (!keyword) return;
    const nameWord = wordOf(keyword, ctx.source, ctx.origin);
    this.record({
      name: nameWord.value,
      literal: true,
      nameWord,
      args,
      redirects: [],
      assignments,
      at: nameWord.at,
      text: ctx.source.slice(n.start, n.end),
      via: ctx.via,
      cwds: st,
      remote: ctx.remote || undefined,
    });
  }

  private redirect(r: SyntaxNode, st: Cwds, ctx: Ctx): Redirect {
    for (const c of r.children) if (c.named && c.type !== "word") this.node(c, st, ctx);
    const at = ctx.origin(r.start);
    const op = r.children.find((c) => !c.named)?.type ?? "";
    if (r.type === "heredoc_redirect") return { op, target: null, mode: null, at, heredoc: true };
    if (r.type === "herestring_redirect") return { op: "<<<", target: null, mode: null, at, herestring: true };
    const dest = r.children.find((c) => c.field === "destination");
    if (!dest || dest.type === "number" || dest.type === "process_substitution" || op.endsWith("-")) return { op, target: null, mode: null, at };
    const target = wordOf(dest, ctx.source, ctx.origin);
    if ((op === ">&" || op === "<&") && target.literal && /^(\d+|-)$/.test(target.value)) return { op, target: null, mode: null, at };
    const mode = op === "<" || op === "<&" ? "read" : "write";
    return { op, target, mode, at };
  }

  private command(n: SyntaxNode, st: Cwds, ctx: Ctx, outer: SyntaxNode[]): Cwds {
    this.seen.add(n);
    const assignments: Assignment[] = [];
    const argNodes: SyntaxNode[] = [];
    const redirectNodes = [...outer];
    let nameNode: SyntaxNode | undefined;
    for (const c of n.children) {
      if (c.type === "variable_assignment") this.assignment(c, st, ctx, assignments);
      else if (c.field === "name") nameNode = c;
      else if (c.field === "argument") argNodes.push(c);
      else if (c.field === "redirect" || c.type.endsWith("_redirect")) redirectNodes.push(c);
    }
    // Commands inside the words ($(…), <(…), `…`) run first, in the same directory.
    if (nameNode) this.node(nameNode, st, ctx);
    for (const a of argNodes) if (a.named) this.node(a, st, ctx);
    const redirects = redirectNodes.map((r) => this.redirect(r, st, ctx));
    if (!nameNode) {
      for (const r of redirects) if (this.silent === 0) this.redirects.push({ redirect: r, cwds: st, at: r.at });
      if (this.silent === 0) this.assignments.push(...assignments);
      return st;
    }
    const words = [wordOf(nameNode, ctx.source, ctx.origin)];
    const ends = [nameNode.end];
    for (let i = 0; i < argNodes.length; i++) {
      const a = argNodes[i]!;
      const next = argNodes[i + 1];
      let w: Word;
      let end = a.end;
      // `$"…"` arrives as an anonymous `$` glued to a string.
      if (!a.named && a.type === "$" && next && next.start === a.end && next.type === "string") {
        w = { ...wordOf(next, ctx.source, ctx.origin), text: ctx.source.slice(a.start, next.end), at: ctx.origin(a.start) };
        end = next.end;
        i++;
      } else w = wordOf(a, ctx.source, ctx.origin);
      // tree-sitter takes a backslash-newline for a blank, bash removes it: `r\<newline>m` is `rm`.
      const prev = words[words.length - 1]!;
      if (CONTINUATION.test(ctx.source.slice(ends[ends.length - 1], a.start))) {
        ctx.glued?.delete(ends[ends.length - 1]!);
        words[words.length - 1] = { value: prev.value + w.value, literal: prev.literal && w.literal, pattern: prev.pattern + w.pattern, text: prev.text + ctx.source.slice(ends[ends.length - 1], a.start) + w.text, at: prev.at };
        ends[ends.length - 1] = end;
        continue;
      }
      words.push(w);
      ends.push(end);
    }
    return this.argv(words, st, ctx, { redirects, assignments, text: ctx.source.slice(n.start, n.end) });
  }

  /** One simple command given as words; unwraps wrappers. Returns the working directory after it. */
  private argv(words: Word[], st: Cwds, ctx: Ctx, info: ArgvInfo): Cwds {
    const first = words[0]!;
    // `find … -exec {} …` and `xargs -I{} {}` run whatever the placeholder becomes.
    const placeholderName = !!info.placeholder && first.value.includes(info.placeholder.token);
    const literal = first.literal && first.value !== "" && !hasGlob(first) && !hasBraces(first) && !placeholderName;
    const name = literal ? basename(first.value) : first.text;
    const cmd: Cmd = {
      name,
      literal,
      nameWord: first,
      args: words.slice(1),
      redirects: info.redirects,
      assignments: info.assignments,
      at: first.at,
      text: info.text ?? words.map((w) => w.text).join(" "),
      via: ctx.via,
      cwds: st,
    };
    if (ctx.remote) cmd.remote = true;
    if (info.stdinOperands) cmd.stdinOperands = true;
    if (info.placeholder) cmd.placeholder = info.placeholder;
    this.record(cmd);
    if (!literal) {
      this.issue(`command name ${quote(first.text)} is not a literal word`, first.at);
      return st;
    }
    if (name === "cd" || name === "pushd") return this.cd(cmd, st);
    if (name === "popd") return null;
    const wrapper = this.env.wrappers.get(name);
    if (wrapper) {
      cmd.wrapper = wrapper;
      const after = this.unwrap(wrapper, cmd, st, ctx, info);
      return SAME_SHELL.has(wrapper.id) ? after : st;
    }
    if (this.functions.get(name)) return null;
    return st;
  }

  private cd(cmd: Cmd, st: Cwds): Cwds {
    const parsed = parseArgs(cmd.args, {}, true);
    const target = parsed.operands[0];
    if (!target) return this.chdir(syntheticWord("~", cmd.at, true), st);
    if (target.literal && target.value === "-") return null;
    return this.chdir(target, st);
  }

  /** The working directories after moving to `dir` from each of `st`. */
  private chdir(dir: Word, st: Cwds): Cwds {
    if (!dir.literal || hasGlob(dir) || hasBraces(dir)) return null;
    let value = dir.value;
    if (hasTilde(dir)) {
      if (value === "~" || value.startsWith("~/")) value = this.env.home + value.slice(1);
      else return null;
    }
    if (value.startsWith("/")) return [path.resolve(value)];
    if (st === null) return null;
    return union(st.map((c) => path.resolve(c, value)));
  }

  private unwrap(spec: WrapperRule, cmd: Cmd, st: Cwds, ctx: Ctx, info: ArgvInfo): Cwds {
    const args = cmd.args;
    const label = spec.label ?? cmd.name;
    const has = (opts: { name: string }[], names?: string[]) => !!names && opts.some((o) => names.includes(o.name));
    cmd.own = args.length;
    switch (spec.kind) {
      case "shell": {
        const parsed = parseArgs(args, spec.options ?? {}, false);
        const operands = args.slice(parsed.end);
        cmd.own = parsed.end;
        if (parsed.opts.some((o) => o.name === "-c")) {
          if (!operands[0]) {
            this.issue(`"${cmd.name} -c" without a script`, cmd.at);
            return st;
          }
          cmd.carried = true;
          this.scriptOf([operands[0]], st, ctx, `${cmd.name} -c`, ctx.remote);
          return st;
        }
        if (has(parsed.opts, ["--version", "--help"])) return st;
        cmd.own = args.length;
        if (operands.length > 0 && !parsed.opts.some((o) => o.name === "-s")) {
          this.issue(`"${cmd.name}" runs the script file ${quote(operands[0]!.value)}`, cmd.at);
          return st;
        }
        const from = info.redirects.some((r) => r.heredoc)
          ? "a heredoc"
          : info.redirects.some((r) => r.herestring)
            ? "a here-string"
            : info.redirects.find((r) => r.mode === "read")
              ? `the file ${quote(info.redirects.find((r) => r.mode === "read")!.target?.text ?? "")}`
              : "stdin";
        this.issue(`"${cmd.name}" reads its script from ${from}`, cmd.at);
        return st;
      }
      case "su": {
        const parsed = parseArgs(args, spec.options ?? {}, true);
        if (has(parsed.opts, spec.noCommand)) return st;
        const script = parsed.opts.filter((o) => spec.scriptOptions?.includes(o.name) && o.value).pop();
        if (!script) {
          this.issue(`"${cmd.name}" without a command opens a shell reading stdin`, cmd.at);
          return st;
        }
        cmd.carried = true;
        cmd.own = 0;
        this.scriptOf([script.value!], st, ctx, `${cmd.name} -c`, ctx.remote);
        return st;
      }
      case "script": {
        const parsed = parseArgs(args, {}, false);
        if (has(parsed.opts, spec.noCommand)) return st;
        const operands = args.slice(parsed.end);
        const action = operands[0];
        if (!action || operands.length < 2 || (action.literal && (action.value === "" || action.value === "-"))) return st;
        cmd.carried = true;
        cmd.own = 0;
        this.scriptOf([action], st, ctx, label, ctx.remote);
        return st;
      }
      case "find":
        return this.find(cmd, st, ctx);
      default:
        break;
    }
    // argv / joined
    const opt = spec.options ?? {};
    const first = parseArgs(args, opt, false);
    let opts = first.opts;
    let i = first.end;
    const assignments: Assignment[] = [];
    if (spec.assignments) {
      while (i < args.length && args[i]!.literal && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i]!.value)) {
        assignments.push({ name: args[i]!.value.slice(0, args[i]!.value.indexOf("=")), at: args[i]!.at });
        i++;
      }
      if (this.silent === 0) cmd.assignments = [...cmd.assignments, ...assignments];
    }
    if (spec.skip) {
      i = Math.min(args.length, i + spec.skip);
      if (spec.optionsAfterSkip) {
        const more = parseArgs(args.slice(i), opt, false);
        opts = opts.concat(more.opts);
        i += more.end;
      }
    }
    if (has(opts, spec.noCommand)) return st;
    cmd.own = i;
    let inner = st;
    const dir = opts.filter((o) => spec.chdir?.includes(o.name) && o.value).pop()?.value;
    if (dir) inner = this.chdir(dir, st);
    const remote = ctx.remote || !!spec.remote;
    const script = opts.filter((o) => spec.scriptOptions?.includes(o.name) && o.value).pop();
    if (script) {
      cmd.carried = true;
      const parts = [script.value!, ...(spec.scriptJoinsRest ? args.slice(i) : [])];
      return this.scriptOf(parts, inner, ctx, label, remote);
    }
    const rest = args.slice(i);
    if (rest.length === 0) {
      cmd.own = args.length;
      if (has(opts, spec.shellOptions) || spec.stdinShellWithoutCommand) this.issue(`"${cmd.name}" without a command opens a shell reading stdin`, cmd.at);
      else if (spec.defaultCommand) {
        cmd.carried = true;
        this.argv([syntheticWord(spec.defaultCommand, cmd.at)], inner, { ...ctx, via: [...ctx.via, label], remote }, { redirects: [], assignments: [], stdinOperands: spec.stdinOperands });
      }
      return st;
    }
    cmd.carried = true;
    // sudo -s CMD…: the words go to the shell as one command line.
    if ((spec.kind === "joined" && !has(opts, spec.argvOptions)) || has(opts, spec.shellOptions)) return this.scriptOf(rest, inner, ctx, label, remote);
    // xargs -I R / -i: R in the carried words (even as the command name) is replaced by input.
    const replace = spec.stdinOperands ? opts.filter((o) => o.name === "-I" || o.name === "--replace" || o.name === "-i").pop() : undefined;
    const placeholder = replace ? { token: replace.value?.value || "{}", roots: null } : undefined;
    return this.argv(rest, inner, { ...ctx, via: [...ctx.via, label], remote }, { redirects: [], assignments, stdinOperands: spec.stdinOperands, placeholder });
  }

  /** find ROOTS… EXPR: roots are recorded for path checks; each -exec/-execdir/-ok/-okdir … ; or + is carried. */
  private find(cmd: Cmd, st: Cwds, ctx: Ctx): Cwds {
    const args = cmd.args;
    let i = 0;
    while (i < args.length && args[i]!.literal && /^-(H|L|P|O\d*|D)$/.test(args[i]!.value)) i += args[i]!.value === "-D" ? 2 : 1;
    const roots: Word[] = [];
    while (i < args.length && !(args[i]!.literal && /^[-(!),]/.test(args[i]!.value) && args[i]!.value !== "-")) roots.push(args[i++]!);
    cmd.roots = roots.length > 0 ? roots : [syntheticWord(".", cmd.at)];
    for (; i < args.length; i++) {
      const w = args[i]!;
      if (!w.literal || !["-exec", "-execdir", "-ok", "-okdir"].includes(w.value)) continue;
      let end = i + 1;
      while (end < args.length && !(args[end]!.literal && (args[end]!.value === ";" || (args[end]!.value === "+" && args[end - 1]?.value === "{}")))) end++;
      if (end >= args.length) this.issue(`"find ${w.value}" without a terminating ; or +`, w.at);
      const inner = args.slice(i + 1, end);
      if (inner.length === 0) {
        this.issue(`"find ${w.value}" without a command`, w.at);
      } else {
        cmd.carried = true;
        const inDir = w.value.endsWith("dir");
        this.argv(inner, inDir ? null : st, { ...ctx, via: [...ctx.via, `find ${w.value}`] }, { redirects: [], assignments: [], placeholder: { token: "{}", roots: cmd.roots } });
      }
      i = end;
    }
    return st;
  }

  /** Parses and walks the text of `parts` (joined by spaces) as a script. */
  private scriptOf(parts: Word[], st: Cwds, ctx: Ctx, label: string, remote: boolean): Cwds {
    const bad = parts.find((p) => !p.literal);
    const via = [...ctx.via, label];
    if (bad) {
      this.issue(`"${label}" runs a non-literal script ${quote(bad.text)}`, bad.at);
      return st;
    }
    const source = parts.map((p) => p.value).join(" ");
    const only = parts.length === 1 ? parts[0]! : null;
    let origin: Origin = () => parts[0]!.at;
    let linear = false;
    if (only && ctx.linear) {
      const t = only.text;
      const offset = t === only.value ? 0 : (t.startsWith("'") || t.startsWith('"')) && t.slice(1, -1) === only.value ? 1 : -1;
      if (offset >= 0) {
        origin = (i) => only.at + offset + i;
        linear = true;
      }
    }
    return this.script(source, st, { source, origin, linear, via, remote, depth: ctx.depth + 1 }, parts[0]!.at);
  }
}
