import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { builtinExecutors } from "../../src/executors/index.js";
import { ROOT } from "../helpers/cli.js";
// @ts-expect-error -- a plain JS script
import { renderExecutorsDoc } from "../../scripts/gen-executors-doc.mjs";

describe("docs/executors.md", () => {
  it("is what scripts/gen-executors-doc.mjs renders from the executors' schemas (regenerate it when this fails)", () => {
    const current = readFileSync(join(ROOT, "docs/executors.md"), "utf8");
    expect(current, "docs/executors.md is stale: run `npm run build && node scripts/gen-executors-doc.mjs`").toBe(renderExecutorsDoc(builtinExecutors));
  });

  it("documents every built-in executor and every input field", () => {
    const doc = readFileSync(join(ROOT, "docs/executors.md"), "utf8");
    for (const ex of builtinExecutors) {
      expect(doc).toContain(`## ${ex.id}\n`);
      for (const field of Object.keys((ex.inputSchema.properties ?? {}) as object)) expect(doc).toContain(`| \`${field}\` |`);
    }
  });
});
