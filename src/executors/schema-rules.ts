import { TaskFailure } from "../core/errors.js";

/**
 * Cross-field rules ("call_tool needs tool_name") written into an input schema's JSON Schema
 * (`if`/`then`, attached with zod's `.meta({ allOf: [...] })`), so the engine's validator rejects
 * a bad task before it runs — and before any connection is made — naming the missing field
 * (`inputs.tool_name is required`). zod refinements cannot be exported to JSON Schema, so they
 * would only run inside execute(), after the task was accepted.
 */
export function requiredWhen(field: string, values: readonly (string | boolean)[], required: readonly string[]): Record<string, unknown> {
  return {
    if: { properties: { [field]: { enum: [...values] } }, required: [field] },
    then: { required: [...required] },
  };
}

/** The same rule for direct calls that skip the engine's validation: fails naming the field. */
export function need<T>(value: T | undefined, field: string, why: string): T {
  if (value === undefined || value === null || value === "") {
    throw new TaskFailure("validation_error", `inputs.${field} is required ${why}`);
  }
  return value;
}
