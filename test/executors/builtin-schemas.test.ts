// The built-in executors register without compiling their schemas (a start-up cost every process
// would pay: see ExecutorRegistry.register's `builtin`), so their schemas are checked here.
import { describe, expect, it } from "vitest";
import { agent } from "../../src/agent/executor.js";
import { compileSchema } from "../../src/core/validation.js";
import { builtinExecutors } from "../../src/executors/index.js";

describe("built-in executor schemas", () => {
  for (const ex of [...builtinExecutors, agent]) {
    it(`${ex.id}: input and output schemas compile`, () => {
      expect(() => compileSchema(ex.inputSchema)).not.toThrow();
      if (ex.outputSchema) expect(() => compileSchema(ex.outputSchema!)).not.toThrow();
    });
  }
});
