// `grove mcp`: grove's operations as MCP tools over stdio, acting as --as / GROVE_SCOPE on the
// local database. stdout carries only MCP messages.
import { DEFAULT_SETTINGS } from "../core/executor.js";
import { openGrove } from "./context.js";
import type { GlobalOptions } from "./program.js";
import { dbSpec } from "./schedules.js";

export async function mcpCommand(opts: GlobalOptions & { concurrency: number; allowPrivateNetwork?: boolean }): Promise<void> {
  const grove = await openGrove(opts);
  const { createServices } = await import("../server/services.js");
  const { defaultMethods } = await import("../server/methods/index.js");
  const { createMcpServer } = await import("../server/mcp.js");
  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
  const { readFileSync } = await import("node:fs");
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  const services = createServices({
    store: grove.store,
    registry: grove.registry,
    settings: { ...DEFAULT_SETTINGS, ...(opts.allowPrivateNetwork ? { allowPrivateNetwork: true } : {}) },
    dbSpec: dbSpec(opts),
    executorModules: opts.executors,
    concurrency: opts.concurrency,
    machines: grove.machines,
  });
  const server = createMcpServer(services, defaultMethods(), { id: "local", kind: "local", scope: grove.scope }, pkg.version);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (transport.onclose = () => resolve()));
  process.stdin.on("end", () => void transport.close());
  await server.connect(transport);
  await closed;
  await services.trees.close(0);
  await services.close();
  await grove.close();
}
