import { TaskFailure } from "./errors.js";
import type { DependencyOutcome } from "./executor.js";

// `{{ path }}` templates in task inputs (DESIGN §4). A string that is exactly one template is
// replaced by the value with its type kept; a template inside a longer string is interpolated as
// text (objects as JSON). Roots: tasks.<name>.(result|status|error)…, tree.inputs.…, secrets.NAME.

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const EXACT = /^\{\{\s*([^{}]*?)\s*\}\}$/;

export interface TemplateUse {
  /** Dotted path of the input field holding the template. */
  field: string;
  expression: string;
  exact: boolean;
}

export interface TemplateScope {
  tasks: Record<string, DependencyOutcome>;
  tree: { inputs: Record<string, unknown> };
  secret?: (name: string) => string | undefined;
}

/** Every template in a value, with the field it sits in. */
export function findTemplates(value: unknown, field = ""): TemplateUse[] {
  const out: TemplateUse[] = [];
  const walk = (v: unknown, path: string) => {
    if (typeof v === "string") {
      const exact = EXACT.exec(v);
      if (exact) out.push({ field: path, expression: exact[1]!, exact: true });
      else for (const m of v.matchAll(TEMPLATE)) out.push({ field: path, expression: m[1]!, exact: false });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, path ? `${path}.${i}` : String(i)));
    } else if (v && typeof v === "object") {
      for (const [k, item] of Object.entries(v)) walk(item, path ? `${path}.${k}` : k);
    }
  };
  walk(value, field);
  return out;
}

/** Splits `a.b[0].c` into ["a", "b", 0, "c"]; throws on a malformed path. */
export function parsePath(expression: string): (string | number)[] {
  const parts: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\[["']([^"']+)["']\]/gy;
  let pos = 0;
  while (pos < expression.length) {
    if (expression[pos] === "." && pos > 0) pos++;
    re.lastIndex = pos;
    const m = re.exec(expression);
    if (!m) throw new Error(`malformed template path "${expression}"`);
    if (m[1] !== undefined) parts.push(m[1].trim());
    else if (m[2] !== undefined) parts.push(Number(m[2]));
    else parts.push(m[3]!);
    pos = re.lastIndex;
  }
  if (parts.length === 0) throw new Error("empty template");
  return parts;
}

/** Checks a template's shape without values: returns an error message or null. */
export function checkExpression(expression: string): string | null {
  let parts: (string | number)[];
  try {
    parts = parsePath(expression);
  } catch (err) {
    return (err as Error).message;
  }
  const [root, second, third] = parts;
  if (root === "tasks") {
    if (typeof second !== "string") return `"${expression}": expected tasks.<name>.result|status|error`;
    if (third !== undefined && third !== "result" && third !== "status" && third !== "error") {
      return `"${expression}": expected tasks.${second}.result, .status or .error`;
    }
    return null;
  }
  if (root === "tree") return second === "inputs" ? null : `"${expression}": expected tree.inputs.<key>`;
  if (root === "secrets") return typeof second === "string" && parts.length === 2 ? null : `"${expression}": expected secrets.<NAME>`;
  return `"${expression}": unknown root "${String(root)}" (use tasks., tree.inputs. or secrets.)`;
}

/** Task names referenced by the templates of a value. */
export function referencedTaskNames(value: unknown): Set<string> {
  const names = new Set<string>();
  for (const t of findTemplates(value)) {
    try {
      const [root, name] = parsePath(t.expression);
      if (root === "tasks" && typeof name === "string") names.add(name);
    } catch {
      // reported by checkExpression
    }
  }
  return names;
}

function lookup(expression: string, scope: TemplateScope, secrets: Set<string>): unknown {
  const parts = parsePath(expression);
  const [root, second, ...rest] = parts;
  let cur: unknown;
  let walked: (string | number)[];
  if (root === "tasks") {
    const dep = scope.tasks[String(second)];
    if (!dep) throw new Error(`"${expression}": task "${String(second)}" is not a dependency of this task`);
    const [field, ...deeper] = rest;
    cur = field === undefined ? dep : (dep as unknown as Record<string, unknown>)[String(field)];
    walked = field === undefined ? [root!, second!] : [root!, second!, field];
    if (field === "result" && dep.status !== "completed") {
      if (deeper.length > 0) throw new Error(`"${expression}": task "${String(second)}" ended ${dep.status}, it has no result`);
      return null;
    }
    rest.splice(0, rest.length, ...deeper);
  } else if (root === "tree" && second === "inputs") {
    cur = scope.tree.inputs;
    walked = [root, second];
  } else if (root === "secrets") {
    const v = scope.secret?.(String(second));
    if (v === undefined) throw new Error(`"${expression}": secret ${String(second)} is not set`);
    secrets.add(v);
    return v;
  } else {
    throw new Error(checkExpression(expression) ?? `"${expression}" cannot be resolved`);
  }
  for (const key of rest) {
    walked.push(key);
    if (cur === null || typeof cur !== "object" || !(key in (cur as object))) {
      throw new Error(`"${expression}": ${walked.join(".")} does not exist`);
    }
    cur = (cur as Record<string | number, unknown>)[key];
  }
  if (cur === undefined) throw new Error(`"${expression}" does not exist`);
  return cur;
}

/**
 * Resolves every template of `inputs` into a new object (the stored inputs are never changed).
 * Returns the secret values used so that the caller can redact them. Unresolvable → template_error.
 */
export function resolveTemplates(
  inputs: Record<string, unknown>,
  scope: TemplateScope,
): { value: Record<string, unknown>; secrets: Set<string> } {
  const secrets = new Set<string>();
  const resolve = (v: unknown, field: string): unknown => {
    if (typeof v === "string") {
      if (!v.includes("{{")) return v;
      try {
        const exact = EXACT.exec(v);
        if (exact) return lookup(exact[1]!, scope, secrets);
        return v.replace(TEMPLATE, (_m, expr: string) => {
          const val = lookup(expr, scope, secrets);
          return typeof val === "string" ? val : JSON.stringify(val);
        });
      } catch (err) {
        throw new TaskFailure("template_error", `inputs.${field}: ${(err as Error).message}`, { field });
      }
    }
    if (Array.isArray(v)) return v.map((item, i) => resolve(item, field ? `${field}.${i}` : String(i)));
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = resolve(item, field ? `${field}.${k}` : k);
      return out;
    }
    return v;
  };
  return { value: resolve(inputs, "") as Record<string, unknown>, secrets };
}

/** Replaces every occurrence of a secret value in a string or JSON value with `***`. */
export function redact<T>(value: T, secrets: ReadonlySet<string>): T {
  if (secrets.size === 0) return value;
  const scrub = (s: string) => {
    let out = s;
    for (const sec of secrets) if (sec.length > 0) out = out.split(sec).join("***");
    return out;
  };
  if (typeof value === "string") return scrub(value) as T;
  if (value === null || typeof value !== "object") return value;
  return JSON.parse(scrub(JSON.stringify(value))) as T;
}

/** Secrets come from the environment: `{{ secrets.API_TOKEN }}` reads GROVE_SECRET_API_TOKEN. */
export function envSecret(name: string): string | undefined {
  return process.env[`GROVE_SECRET_${name}`];
}
