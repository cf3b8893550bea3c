import { describe, expect, it } from "vitest";
import { loadPolicy } from "../../src/agent/policy/index.js";

describe("built-in rules", () => {
  it("load, with every example behaving as declared", async () => {
    await expect(loadPolicy()).resolves.toBeDefined();
  });
});
