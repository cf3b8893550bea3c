import { describe, it, expect } from "vitest";
import { statfs } from "node:fs/promises";
import os from "node:os";
import { systemInfo, type SystemInfoResult } from "../../src/executors/system-info.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";

const run = (inputs: Record<string, unknown>) => runExecutor<SystemInfoResult>(systemInfo, inputs, makeCtx().ctx);

describe("system_info executor", () => {
  it("reports everything by default, consistent with the OS", async () => {
    const r = await run({});
    expect(r.hostname).toBe(os.hostname());
    expect(r.cpu!.cores).toBe(os.availableParallelism());
    expect(r.cpu!.load_avg).toHaveLength(3);
    expect(r.memory!.total_bytes).toBe(os.totalmem());
    expect(r.memory!.used_bytes + r.memory!.free_bytes).toBe(r.memory!.total_bytes);
    const s = await statfs("/");
    expect(r.disk!.total_bytes).toBe(s.blocks * s.bsize);
    expect(r.disk!.used_percent).toBeGreaterThanOrEqual(0);
    expect(r.disk!.used_percent).toBeLessThanOrEqual(100);
  });

  it("reports one resource when asked", async () => {
    const r = await run({ resource: "memory" });
    expect(r.memory).toBeDefined();
    expect(r.cpu).toBeUndefined();
    expect(r.disk).toBeUndefined();
    const d = await run({ resource: "disk", path: os.tmpdir() });
    expect(d.disk!.path).toBe(os.tmpdir());
  });

  it("fails clearly on a missing path", async () => {
    const f = await failureOf(run({ resource: "disk", path: "/no/such/dir" }));
    expect(f.message).toBe("disk usage of /no/such/dir: ENOENT");
  });

  it("runs through the engine and rejects an unknown resource naming the field", async () => {
    const t = await runTask("system_info", { resource: "cpu" });
    expect(t.status).toBe("completed");
    expect(t.result.cpu.cores).toBeGreaterThan(0);
    await expect(runTask("system_info", { resource: "gpu" })).rejects.toThrow(/inputs\.resource must be one of \["cpu","memory","disk","all"\]/);
  });
});
