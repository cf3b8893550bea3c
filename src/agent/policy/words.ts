// Shell words as the policy sees them: the unquoted value of a word when it is literal (quotes
// removed, escapes and $'…' decoded), or its source text when it is not (a `$X`, a `$(…)`).
// `pattern` keeps what bash would still expand: the value with every quoted glob, brace and tilde
// character escaped by a backslash, so `'*'` is a star and `*` is a glob.
import type { SyntaxNode } from "./parser.js";

export interface Word {
  /** The unquoted value when `literal`, else the source text. */
  value: string;
  /** True when the value is fully known before running: no expansion or substitution in it. */
  literal: boolean;
  /** The value with quoted special characters (`*?[]{},~\`) escaped by a backslash. */
  pattern: string;
  /** The word as written. */
  text: string;
  /** Offset of the word in the outermost command string. */
  at: number;
}

/** Maps an offset in the source being walked to an offset in the outermost command string. */
export type Origin = (offset: number) => number;

const SPECIAL = new Set(["*", "?", "[", "]", "{", "}", ",", "~", "\\"]);
const escapeChar = (c: string) => (SPECIAL.has(c) ? `\\${c}` : c);
const SPECIAL_RE = /[*?[\]{},~\\]/;
export const escapeAll = (s: string) => (SPECIAL_RE.test(s) ? Array.from(s, escapeChar).join("") : s);

interface Piece {
  literal: boolean;
  value: string;
  pattern: string;
}

const NON_LITERAL = new Set(["simple_expansion", "expansion", "command_substitution", "process_substitution", "arithmetic_expansion"]);

/** The Word for a node of the tree (an argument, a command name, a redirect target). */
export function wordOf(node: SyntaxNode, source: string, origin: Origin): Word {
  const text = source.slice(node.start, node.end);
  const piece = pieceOf(node, source);
  return { value: piece.literal ? piece.value : text, literal: piece.literal, pattern: piece.literal ? piece.pattern : escapeAll(text), text, at: origin(node.start) };
}

/** A literal word made up by the policy (xargs's default `echo`, a value cut out of `-o/x`). */
export function syntheticWord(value: string, at: number, unquoted = false): Word {
  return { value, literal: true, pattern: unquoted ? value : escapeAll(value), text: value, at };
}

/** The part of `word` after its first `n` characters (`--output=/x` → `/x`). */
export function wordTail(word: Word, n: number): Word {
  const value = word.value.slice(n);
  const unquoted = word.pattern === word.value;
  return { value, literal: word.literal, pattern: unquoted ? value : escapeAll(value), text: word.text, at: word.at + Math.min(n, word.text.length) };
}

function pieceOf(node: SyntaxNode, source: string): Piece {
  const text = source.slice(node.start, node.end);
  switch (node.type) {
    case "word":
    case "number":
    case "brace_expression":
      return unquotedPiece(text);
    case "raw_string": {
      const inner = text.slice(1, -1);
      return { literal: true, value: inner, pattern: escapeAll(inner) };
    }
    case "translated_string": {
      const inner = node.children.find((c) => c.type === "string");
      return inner ? pieceOf(inner, source) : { literal: false, value: text, pattern: escapeAll(text) };
    }
    case "string": {
      if (node.children.some((c) => c.named && c.type !== "string_content")) return { literal: false, value: text, pattern: escapeAll(text) };
      const open = text.indexOf('"');
      const inner = decodeDoubleQuoted(text.slice(open + 1, -1));
      return { literal: true, value: inner, pattern: escapeAll(inner) };
    }
    case "ansi_c_string": {
      const inner = decodeAnsiC(text.slice(2, -1));
      return { literal: true, value: inner, pattern: escapeAll(inner) };
    }
    case "concatenation":
    case "command_name": {
      const parts: Piece[] = [];
      const kids = node.children;
      for (let i = 0; i < kids.length; i++) {
        const kid = kids[i]!;
        // `$"…"` (a translated string) comes as an anonymous `$` glued to the string.
        if (!kid.named && kid.type === "$" && kids[i + 1] && kids[i + 1]!.start === kid.end && kids[i + 1]!.type === "string") continue;
        parts.push(pieceOf(kid, source));
      }
      if (parts.length === 0) return unquotedPiece(text);
      return { literal: parts.every((p) => p.literal), value: parts.map((p) => p.value).join(""), pattern: parts.map((p) => p.pattern).join("") };
    }
    default:
      if (NON_LITERAL.has(node.type) || node.children.some((c) => c.named)) return { literal: false, value: text, pattern: escapeAll(text) };
      return unquotedPiece(text);
  }
}

/** An unquoted word: a backslash quotes the next character; backslash-newline disappears. */
function unquotedPiece(text: string): Piece {
  if (!text.includes("\\")) return { literal: true, value: text, pattern: text };
  let value = "";
  let pattern = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      const next = text[++i]!;
      if (next === "\n") continue;
      value += next;
      pattern += escapeChar(next);
    } else {
      value += c;
      pattern += c;
    }
  }
  return { literal: true, value, pattern };
}

/** Inside "…", a backslash only quotes $ ` " \ and newline. */
function decodeDoubleQuoted(s: string): string {
  return s.replace(/\\([$`"\\\n])/g, (_m, c: string) => (c === "\n" ? "" : c));
}

/** The value of a $'…' string (bash's ANSI-C quoting). */
export function decodeAnsiC(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\" || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const e = s[++i]!;
    const simple: Record<string, string> = { a: "\x07", b: "\b", e: "\x1b", E: "\x1b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", "'": "'", '"': '"', "?": "?" };
    if (e in simple) out += simple[e];
    else if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      out += String.fromCharCode(parseInt(m, 8) & 0xff);
      i += m.length - 1;
    } else if (e === "x" || e === "u" || e === "U") {
      const max = e === "x" ? 2 : e === "u" ? 4 : 8;
      const m = new RegExp(`^[0-9a-fA-F]{1,${max}}`).exec(s.slice(i + 1));
      if (!m) out += `\\${e}`;
      else {
        const code = parseInt(m[0], 16);
        out += code <= 0x10ffff ? String.fromCodePoint(code) : "";
        i += m[0].length;
      }
    } else if (e === "c" && i + 1 < s.length) {
      out += String.fromCharCode(s.charCodeAt(++i) & 0x1f);
    } else out += `\\${e}`;
  }
  return out;
}

/** Whether bash would glob-expand the word (an unquoted * ? or [). */
export function hasGlob(word: Word): boolean {
  const p = word.pattern;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

/** Whether the word starts with an unquoted tilde. */
export function hasTilde(word: Word): boolean {
  return word.pattern.startsWith("~");
}

/** Removes the escaping of a pattern. */
export function unescapePattern(p: string): string {
  return p.replace(/\\(.)/g, "$1");
}

/**
 * Bash brace expansion of a pattern (`a{b,c}` → `ab ac`, `{1..3}`), on unescaped braces only.
 * Returns patterns (still escaped), or null when there would be more than `limit`.
 */
export function expandBraces(pattern: string, limit = 256): string[] | null {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c !== "{") continue;
    let depth = 0;
    const commas: number[] = [];
    let close = -1;
    for (let j = i; j < pattern.length; j++) {
      const d = pattern[j];
      if (d === "\\") {
        j++;
        continue;
      }
      if (d === "{") depth++;
      else if (d === "}" && --depth === 0) {
        close = j;
        break;
      } else if (d === "," && depth === 1) commas.push(j);
    }
    if (close < 0) return [pattern];
    const inner = pattern.slice(i + 1, close);
    let alternatives: string[] | null = null;
    if (commas.length > 0) {
      alternatives = [];
      let from = i + 1;
      for (const k of [...commas, close]) {
        alternatives.push(pattern.slice(from, k));
        from = k + 1;
      }
    } else alternatives = sequence(inner);
    if (!alternatives) continue;
    const prefix = pattern.slice(0, i);
    const suffix = pattern.slice(close + 1);
    const out: string[] = [];
    for (const alt of alternatives) {
      const expanded = expandBraces(prefix + alt + suffix, limit);
      if (!expanded) return null;
      out.push(...expanded);
      if (out.length > limit) return null;
    }
    return out;
  }
  return [pattern];
}

function sequence(inner: string): string[] | null {
  const m = /^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?$/.exec(inner);
  if (!m) return null;
  const numeric = /\d/.test(m[1]!);
  if (numeric !== /\d/.test(m[2]!)) return null;
  const a = numeric ? Number(m[1]) : m[1]!.charCodeAt(0);
  const b = numeric ? Number(m[2]) : m[2]!.charCodeAt(0);
  const step = Math.max(1, Math.abs(Number(m[3] ?? 1)));
  const out: string[] = [];
  for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? step : -step) {
    out.push(numeric ? String(v) : escapeAll(String.fromCharCode(v)));
    if (out.length > 1000) return null;
  }
  return out;
}

/** Whether the word would be changed by brace expansion. */
export function hasBraces(word: Word): boolean {
  if (!word.pattern.includes("{")) return false;
  const expanded = expandBraces(word.pattern);
  return expanded === null || expanded.length !== 1 || expanded[0] !== word.pattern;
}

/** The last path segment: `/usr/bin/sudo` → `sudo`. */
export function basename(name: string): string {
  const trimmed = name.endsWith("/") ? name.replace(/\/+$/, "") : name;
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/** A word quoted for a reason text: "x", or 'x' when it holds a double quote. */
export function quote(s: string): string {
  return s.includes('"') && !s.includes("'") ? `'${s}'` : `"${s}"`;
}
