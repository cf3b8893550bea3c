// DESIGN §9: "per-run restrictions can only narrow a machine's configured policy, never widen".
// The meet of two restriction sets: every boolean that either sets, every entry of either list,
// and only the directories both allow (a directory of one inside a directory of the other).
import { posix as path } from "node:path";
import { parseRestrictions } from "./check.js";
import { inside } from "./paths.js";
import type { ParsedRestrictions } from "./types.js";

/** Restrictions at least as strict as both `base` (say, the machine's) and `run` (the run's). */
export function narrowRestrictions(base: unknown, run: unknown): ParsedRestrictions {
  const a = parseRestrictions(base);
  const b = parseRestrictions(run);
  const out: ParsedRestrictions = {};
  for (const key of ["no_sudo", "no_delete", "dry_run"] as const) if (a[key] || b[key]) out[key] = true;
  const writable = meet(writableDirs(a), writableDirs(b));
  const readable = meet(readableDirs(a), readableDirs(b));
  if (writable !== undefined) out.allowed_dirs = writable;
  if (readable !== undefined) {
    const readOnly = readable.filter((d) => !(writable ?? []).some((w) => inside(d, w)));
    if (readOnly.length > 0 || writable === undefined) out.read_only_dirs = readOnly;
  }
  for (const key of ["forbidden_commands", "require_approval"] as const) {
    const list = [...(a[key] ?? []), ...(b[key] ?? [])];
    if (list.length > 0) out[key] = [...new Map(list.map((e) => [JSON.stringify(e), e])).values()];
  }
  return out;
}

/** Where writes may go: allowed_dirs; none when only read_only_dirs is set; anywhere when neither is. */
function writableDirs(r: ParsedRestrictions): string[] | undefined {
  if (r.allowed_dirs !== undefined) return r.allowed_dirs;
  return r.read_only_dirs !== undefined ? [] : undefined;
}

function readableDirs(r: ParsedRestrictions): string[] | undefined {
  if (r.allowed_dirs === undefined && r.read_only_dirs === undefined) return undefined;
  return [...(r.allowed_dirs ?? []), ...(r.read_only_dirs ?? [])];
}

/** Directories inside both lists (undefined: no limit). */
function meet(x: string[] | undefined, y: string[] | undefined): string[] | undefined {
  if (x === undefined) return y;
  if (y === undefined) return x;
  const norm = (d: string) => (d.startsWith("~") ? d.replace(/\/+$/, "") || "~" : path.normalize(d).replace(/(.)\/+$/, "$1"));
  const out = new Set<string>();
  for (const p of x.map(norm)) for (const q of y.map(norm)) {
    if (inside(p, q)) out.add(p);
    else if (inside(q, p)) out.add(q);
  }
  return [...out];
}
