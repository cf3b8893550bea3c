import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000, // generous: many tests spawn real processes, and CI machines have 2 cores
    hookTimeout: 30_000,
    pool: "forks",
  },
});
