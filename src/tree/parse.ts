import { createRequire } from "node:module";

// yaml is loaded on first use (a YAML tree file): most runs read JSON, and it costs ~60 ms to load.
const require = createRequire(import.meta.url);
type YamlModule = typeof import("yaml");
let yamlModule: YamlModule | undefined;
const yaml = (): YamlModule => (yamlModule ??= require("yaml") as YamlModule);
import { InputError } from "../core/errors.js";

// Turning the text of a tree file into a plain value (DESIGN §3). JSON by default, YAML when the
// file name ends in .yaml/.yml. Syntax errors become one-line InputErrors with a line and column.

/** True when a file name says YAML (`.yaml` / `.yml`, any case). */
export function isYamlFileName(fileName: string): boolean {
  return /\.ya?ml$/i.test(fileName);
}

/**
 * Parses the text of a tree file: YAML when `fileName` ends in .yaml/.yml, JSON otherwise.
 * Throws InputError `tree.json: invalid JSON at line 3 column 5: <reason>` on a syntax error.
 */
export function parseTreeText(text: string, fileName: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a UTF-8 BOM is not content
  return isYamlFileName(fileName) ? parseYamlText(body, fileName) : parseJsonText(body, fileName);
}

function parseJsonText(text: string, fileName: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pos = positionFromMessage(message) ?? locateJsonError(text) ?? text.length;
    const { line, column } = lineColumn(text, pos);
    throw new InputError(`${fileName}: invalid JSON at line ${line} column ${column}: ${jsonReason(message)}`);
  }
}

function parseYamlText(text: string, fileName: string): unknown {
  try {
    return yaml().parse(text);
  } catch (err) {
    if (err instanceof yaml().YAMLError) {
      const reason = oneLine(err.message.replace(/ at line \d+, column \d+:[\s\S]*$/, ""));
      const at = err.linePos?.[0];
      const where = at ? ` at line ${at.line} column ${at.col}` : "";
      throw new InputError(`${fileName}: invalid YAML${where}: ${reason}`);
    }
    // e.g. "Unresolved alias": a ReferenceError without a position
    throw new InputError(`${fileName}: invalid YAML: ${oneLine(err instanceof Error ? err.message : String(err))}`);
  }
}

/** `... in JSON at position 42` (Node 20) or `... (line 3 column 5)` (newer V8) → the offset. */
function positionFromMessage(message: string): number | null {
  const m = /at position (\d+)/.exec(message);
  return m ? Number(m[1]) : null;
}

function jsonReason(message: string): string {
  const reason = message
    // Unexpected token 'x', "<source>" is not valid JSON (the source may span lines, or start with ...)
    .replace(/^(Unexpected token '[\s\S]+?'|[^,]*),\s[\s\S]*\bis not valid JSON\s*$/, "$1")
    .replace(/\s*\(line \d+ column \d+\)/, "")
    .replace(/\s+in JSON at position \d+/, "");
  return oneLine(reason) || "syntax error";
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

/** 1-based line and column of an offset; `\r\n` and `\n` end lines. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(pos, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

class JsonSyntax {
  constructor(readonly pos: number) {}
}

/**
 * The offset of the first JSON syntax error, or null when the text is valid JSON. V8 does not
 * give a position for every error ("Unexpected token ']', "[1,]" is not valid JSON"), so this
 * small scanner finds it.
 */
export function locateJsonError(text: string): number | null {
  let i = 0;
  const n = text.length;
  const fail = (at = i): never => {
    throw new JsonSyntax(at);
  };
  const ws = () => {
    while (i < n) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
      else break;
    }
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) fail();
  };
  const digits = () => {
    const start = i;
    while (i < n && text[i]! >= "0" && text[i]! <= "9") i++;
    if (i === start) fail();
  };
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else digits();
    if (text[i] === ".") {
      i++;
      digits();
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits();
    }
  };
  const string = () => {
    if (text[i] !== '"') fail();
    i++;
    for (;;) {
      if (i >= n) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === "u") {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail();
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return;
        } else fail();
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return;
        } else fail();
      }
    } else if (c === '"') string();
    else if (c === "t") literal("true");
    else if (c === "f") literal("false");
    else if (c === "n") literal("null");
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) number();
    else fail();
  };
  try {
    value();
    ws();
    if (i < n) fail();
    return null;
  } catch (err) {
    if (err instanceof JsonSyntax) return Math.min(err.pos, n);
    return null; // nesting deeper than the stack: no position

  }
}
