// The user's output schema, as the `final_answer` tool's input schema and as the validator of the
// answer (Ajv; a zod schema is also parsed, for its refinements and its typed output). Tool inputs
// must be JSON objects, so a schema for anything else is wrapped as {output: <schema>}.
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { z } from "zod";
import { toJsonSchema } from "../core/executor.js";
import { InputError } from "../core/errors.js";
import type { JsonSchema } from "../core/validation.js";

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;
const ajv = new Ajv2020({ strict: false, allErrors: true, useDefaults: true });
addFormats(ajv);
const compiled = new WeakMap<object, ValidateFunction>();

/** Used when the caller gives no schema. */
export const DEFAULT_OUTPUT_SCHEMA: JsonSchema = {
  type: "object",
  properties: {
    success: { type: "boolean", description: "whether the goal was reached" },
    summary: { type: "string", description: "what was done and found" },
  },
  required: ["success", "summary"],
};

export interface OutputSpec {
  /** The user's schema, as JSON Schema. */
  schema: JsonSchema;
  /** The final_answer tool's input schema (the user's, or it wrapped as {output}). */
  toolSchema: JsonSchema;
  wrapped: boolean;
  zod?: z.ZodType;
}

function isZod(s: unknown): s is z.ZodType {
  return typeof s === "object" && s !== null && "_zod" in s;
}

function isObjectSchema(s: JsonSchema): boolean {
  return s.type === "object" || (s.type === undefined && typeof s.properties === "object" && s.anyOf === undefined && s.oneOf === undefined);
}

export function outputSpec(schema: z.ZodType | JsonSchema | undefined, wrappedHint?: boolean): OutputSpec {
  const zod = isZod(schema) ? schema : undefined;
  const json = schema === undefined ? DEFAULT_OUTPUT_SCHEMA : toJsonSchema(schema as z.ZodType | JsonSchema);
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new InputError("output schema: must be a JSON Schema object", "output_schema");
  try {
    validatorOf(json);
  } catch (err) {
    throw new InputError(`output schema: ${(err as Error).message}`, "output_schema");
  }
  const wrapped = wrappedHint ?? !isObjectSchema(json);
  const toolSchema = wrapped ? { type: "object", properties: { output: json }, required: ["output"], additionalProperties: false } : json;
  return { schema: json, toolSchema, wrapped, zod };
}

function validatorOf(schema: JsonSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    const copy = { ...schema };
    delete copy.$schema; // draft-07 and 2020-12 schemas alike: the keywords used here are shared
    fn = ajv.compile(copy);
    compiled.set(schema, fn);
  }
  return fn;
}

export type Checked = { ok: true; value: unknown } | { ok: false; errors: string[] };

/** Validates the model's final_answer input: unwraps, checks with Ajv, then with zod if given. */
export function checkAnswer(spec: OutputSpec, input: unknown): Checked {
  let value = input;
  if (spec.wrapped) {
    if (typeof input !== "object" || input === null || !("output" in input)) return { ok: false, errors: ['(root): must have the property "output"'] };
    value = (input as { output: unknown }).output;
  }
  // Ajv's useDefaults mutates: validate a copy, return the copy (defaults applied).
  const copy = structuredClone(value);
  const validate = validatorOf(spec.schema);
  if (!validate(copy)) return { ok: false, errors: (validate.errors ?? []).map(describe) };
  if (spec.zod) {
    const parsed = spec.zod.safeParse(copy);
    if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => `${i.path.length ? "/" + i.path.join("/") : "(root)"}: ${i.message}`) };
    return { ok: true, value: parsed.data };
  }
  return { ok: true, value: copy };
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || "(root)";
  if (e.keyword === "additionalProperties") return `${at}: must not have the property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === "enum") return `${at}: must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  return `${at}: ${e.message ?? "is invalid"}`;
}
