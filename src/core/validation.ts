import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

export type JsonSchema = Record<string, unknown>;

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false, coerceTypes: false });
addFormats(ajv);
const cache = new WeakMap<object, ValidateFunction>();

export interface ValidationIssue {
  /** Dotted path of the offending field (`headers.Authorization`), "" for the whole object. */
  field: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

function compiled(schema: JsonSchema): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

/** Throws when the schema itself is not a valid JSON Schema (checked when an executor registers). */
export function compileSchema(schema: JsonSchema): void {
  compiled(schema);
}

function pointerToField(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

function issueOf(e: ErrorObject): ValidationIssue {
  let field = pointerToField(e.instancePath);
  let message = e.message ?? "is invalid";
  if (e.keyword === "required") {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    field = field ? `${field}.${missing}` : missing;
    message = "is required";
  } else if (e.keyword === "additionalProperties") {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    field = field ? `${field}.${extra}` : extra;
    message = "is not allowed";
  } else if (e.keyword === "enum") {
    message = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  }
  return { field, message };
}

/**
 * Validates `value` against `schema` with defaults applied. The input is cloned first, so the
 * caller's object (a task's stored inputs) is never modified.
 * `ignore` lists fields whose errors do not count (values that are templates resolved later).
 */
export function validate<T = Record<string, unknown>>(
  schema: JsonSchema,
  value: unknown,
  ignore: ReadonlySet<string> = new Set(),
): ValidationResult<T> {
  const copy = value === undefined ? {} : structuredClone(value);
  const fn = compiled(schema);
  if (fn(copy)) return { ok: true, value: copy as T };
  // An `if` error only says "must match the then schema"; the then-branch's own error (e.g.
  // `tool_name is required`) is reported beside it and is the one that names the field.
  const errors = (fn.errors ?? []).filter((e) => e.keyword !== "if");
  const issues = errors.map(issueOf).filter((i) => !isIgnored(i.field, ignore));
  if (issues.length === 0) return { ok: true, value: copy as T };
  return { ok: false, issues };
}

function isIgnored(field: string, ignore: ReadonlySet<string>): boolean {
  for (const f of ignore) if (field === f || field.startsWith(f + ".")) return true;
  return false;
}

export function describeIssues(issues: ValidationIssue[]): string {
  return issues.map((i) => (i.field ? `${i.field} ${i.message}` : i.message)).join("; ");
}
