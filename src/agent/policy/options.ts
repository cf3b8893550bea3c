// A getopt-like reader of a command's words, driven by a small spec: which short and long options
// take a value. Used to find where a wrapper's carried command starts (`timeout -s KILL 5 rm x`)
// and which words of a command are its file operands (`cp -t DIR a b`).
import { wordTail, type Word } from "./words.js";

export interface OptionSpec {
  /** Short options that take a value, attached (`-n5`) or as the next word (`-n 5`). */
  shortValue?: string;
  /** Short options whose value can only be attached (`sed -i.bak`). */
  shortOptional?: string;
  /** Long options (without `--`) that take a value (`--signal=KILL`, `--signal KILL`). */
  longValue?: string[];
  /** Long options whose value can only follow `=` (`--in-place=.bak`). */
  longOptional?: string[];
  /** `-5` is an option (nice's old syntax). */
  numeric?: boolean;
  /** `+o NAME` / `+O NAME` style options, as shells have. */
  plus?: boolean;
}

export interface Opt {
  /** `-s`, `--signal`, or `+o`. */
  name: string;
  /** The option's value, when it takes one (`KILL`), as a Word. */
  value: Word | null;
  word: Word;
}

export interface ParsedArgs {
  opts: Opt[];
  operands: Word[];
  /** Index (in the words given) of the first word not read, when reading stopped at an operand. */
  end: number;
}

/**
 * Reads options from `words`. With `permute` (GNU style) options may come anywhere and every
 * operand is collected; without, reading stops at the first operand (its index is `end`).
 * A non-literal word is always an operand. `--` ends the options.
 */
export function parseArgs(words: Word[], spec: OptionSpec, permute: boolean): ParsedArgs {
  const opts: Opt[] = [];
  const operands: Word[] = [];
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    const v = w.value;
    if (!w.literal || v === "-" || !(v.startsWith("-") || (spec.plus && /^\+[oO]$/.test(v)))) {
      if (!permute) return { opts, operands, end: i };
      operands.push(w);
      continue;
    }
    if (v === "--") {
      if (!permute) return { opts, operands, end: i + 1 };
      operands.push(...words.slice(i + 1));
      return { opts, operands, end: words.length };
    }
    if (v.startsWith("--")) {
      const eq = v.indexOf("=");
      const raw = eq < 0 ? v.slice(2) : v.slice(2, eq);
      const long = resolveLong(raw, spec);
      const name = `--${long}`;
      if (eq >= 0) opts.push({ name, value: wordTail(w, eq + 1), word: w });
      else if (spec.longValue?.includes(long)) {
        const next = words[i + 1];
        opts.push({ name, value: next ?? null, word: w });
        if (next) i++;
      } else opts.push({ name, value: null, word: w });
      continue;
    }
    if (v.startsWith("+")) {
      const next = words[i + 1];
      opts.push({ name: v, value: next ?? null, word: w });
      if (next) i++;
      continue;
    }
    if (spec.numeric && /^-\d+$/.test(v)) {
      opts.push({ name: "-#", value: wordTail(w, 1), word: w });
      continue;
    }
    // A cluster of short options: -abc, -n5, -o FILE.
    for (let k = 1; k < v.length; k++) {
      const letter = v[k]!;
      const name = `-${letter}`;
      if (spec.shortValue?.includes(letter)) {
        if (k + 1 < v.length) opts.push({ name, value: wordTail(w, k + 1), word: w });
        else {
          const next = words[i + 1];
          opts.push({ name, value: next ?? null, word: w });
          if (next) i++;
        }
        break;
      }
      if (spec.shortOptional?.includes(letter)) {
        opts.push({ name, value: k + 1 < v.length ? wordTail(w, k + 1) : null, word: w });
        break;
      }
      opts.push({ name, value: null, word: w });
    }
  }
  return { opts, operands, end: i };
}

/** GNU getopt accepts an unambiguous prefix of a long option (`--chd` for `--chdir`). */
function resolveLong(raw: string, spec: OptionSpec): string {
  const known = [...(spec.longValue ?? []), ...(spec.longOptional ?? [])];
  if (known.includes(raw) || raw.length < 2) return raw;
  const candidates = known.filter((k) => k.startsWith(raw));
  return candidates.length === 1 ? candidates[0]! : raw;
}

/** Whether one of `names` (`-i`, `--in-place`) was given. */
export function hasOpt(parsed: ParsedArgs, names: readonly string[]): boolean {
  return parsed.opts.some((o) => names.includes(o.name));
}

/** The values of the options named `names`. */
export function optValues(parsed: ParsedArgs, names: readonly string[]): Word[] {
  return parsed.opts.filter((o) => names.includes(o.name) && o.value).map((o) => o.value!);
}
