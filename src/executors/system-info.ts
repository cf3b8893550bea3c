import { statfs } from "node:fs/promises";
import os from "node:os";
import { z } from "zod";
import { defineExecutor } from "../core/executor.js";
import { TaskFailure } from "../core/errors.js";

// Read-only by construction: numbers come from node:os and statfs(2), never from a shell
// (apflow's system_info ran predefined shell commands).

export const SystemInfoInput = z.strictObject({
  resource: z.enum(["cpu", "memory", "disk", "all"]).default("all").describe("Which numbers to collect"),
  path: z.string().min(1).default("/").describe("The filesystem whose disk usage is reported"),
});

const Cpu = z.object({
  model: z.string(),
  cores: z.number().int(),
  speed_mhz: z.number(),
  arch: z.string(),
  load_avg: z.array(z.number()).describe("1, 5 and 15 minute load averages"),
});
const Memory = z.object({
  total_bytes: z.number(),
  free_bytes: z.number(),
  used_bytes: z.number(),
  used_percent: z.number(),
});
const Disk = z.object({
  path: z.string(),
  total_bytes: z.number(),
  free_bytes: z.number(),
  available_bytes: z.number().describe("Free space usable by unprivileged users"),
  used_bytes: z.number(),
  used_percent: z.number(),
});

export const SystemInfoOutput = z.object({
  hostname: z.string(),
  platform: z.string(),
  uptime_s: z.number(),
  cpu: Cpu.optional(),
  memory: Memory.optional(),
  disk: Disk.optional(),
});
export type SystemInfoResult = z.infer<typeof SystemInfoOutput>;

const pct = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 10_000) / 100 : 0);

export const systemInfo = defineExecutor({
  id: "system_info",
  name: "System information",
  description: "Reports CPU, memory and/or disk usage of the machine grove runs on, as numbers. Read-only.",
  input: SystemInfoInput,
  output: SystemInfoOutput,
  async execute(inputs): Promise<SystemInfoResult> {
    const resource = inputs.resource ?? "all";
    const out: SystemInfoResult = { hostname: os.hostname(), platform: os.platform(), uptime_s: Math.round(os.uptime()) };
    if (resource === "cpu" || resource === "all") {
      const cpus = os.cpus();
      out.cpu = {
        model: cpus[0]?.model.trim() ?? "unknown",
        cores: os.availableParallelism(),
        speed_mhz: cpus[0]?.speed ?? 0,
        arch: os.arch(),
        load_avg: os.loadavg(),
      };
    }
    if (resource === "memory" || resource === "all") {
      const total = os.totalmem();
      const free = os.freemem();
      out.memory = { total_bytes: total, free_bytes: free, used_bytes: total - free, used_percent: pct(total - free, total) };
    }
    if (resource === "disk" || resource === "all") {
      const path = inputs.path ?? "/";
      let s;
      try {
        s = await statfs(path);
      } catch (err) {
        throw new TaskFailure("executor_error", `disk usage of ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const total = s.blocks * s.bsize;
      const free = s.bfree * s.bsize;
      out.disk = {
        path,
        total_bytes: total,
        free_bytes: free,
        available_bytes: s.bavail * s.bsize,
        used_bytes: total - free,
        used_percent: pct(total - free, total),
      };
    }
    return out;
  },
});
