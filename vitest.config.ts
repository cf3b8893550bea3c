import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000, // generous: many tests spawn real processes, and CI machines have 2 cores
    hookTimeout: 30_000,
    pool: "forks",
    // Two test files at a time on the 2-core CI machine: most tests wait on child processes
    // (the CLI, sshd, PostgreSQL), so the default of one file at a time left a core idle and the
    // suite near CI's 30-minute limit.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
