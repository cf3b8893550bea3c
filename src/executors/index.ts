import type { Executor } from "../core/executor.js";
import type { ExecutorRegistry } from "../core/registry.js";
import { aggregate } from "./aggregate.js";
import { command, makeCommandExecutor } from "./command.js";
import { docker } from "./docker.js";
import { email } from "./email.js";
import { fleet } from "./fleet.js";
import { generate, makeGenerateExecutor } from "./generate.js";
import { grpc } from "./grpc.js";
import { groveApi } from "./grove-api.js";
import type { ResolveMachine } from "./machine-exec.js";
import { http } from "./http.js";
import { llm } from "./llm.js";
import { mcp } from "./mcp.js";
import { makeSshExecutor, ssh } from "./ssh.js";
import { systemInfo } from "./system-info.js";
import { websocket } from "./websocket.js";

export { aggregate } from "./aggregate.js";
export { command, makeCommandExecutor } from "./command.js";
export { ssh, makeSshExecutor } from "./ssh.js";
export { fleet } from "./fleet.js";
export { docker, makeDockerExecutor } from "./docker.js";
export { email } from "./email.js";
export { generate, makeGenerateExecutor, generateTree, GENERATE_DENIED_BY_DEFAULT } from "./generate.js";
export { grpc } from "./grpc.js";
export { groveApi } from "./grove-api.js";
export { http, makeHttpExecutor } from "./http.js";
export { llm } from "./llm.js";
export { mcp } from "./mcp.js";
export { assertPublicUrl, isPublicAddress } from "./net-guard.js";
export { systemInfo } from "./system-info.js";
export { websocket } from "./websocket.js";

/** The executors every grove process knows. */
export const builtinExecutors: readonly Executor[] = [command, http, aggregate, ssh, fleet, websocket, systemInfo, email, mcp, grpc, docker, llm, generate, groveApi];

/**
 * Registers the built-ins, replacing any executor already registered under the same id.
 * `generate` is bound to this registry, so the trees it makes may use every executor registered
 * in it (user modules included, subject to its allow-list).
 */
export function registerBuiltins(registry: ExecutorRegistry): void {
  for (const ex of builtinExecutors) registry.register(ex === generate ? makeGenerateExecutor({ registry }) : ex, { override: true, builtin: true });
}

/**
 * Replaces the executors that can run on registry machines (`machine: NAME`) with ones bound to
 * `resolveMachine` (a MachineRegistry's resolver), so they find the machines of the task's owner.
 */
export function registerMachineExecutors(registry: ExecutorRegistry, resolveMachine: ResolveMachine): void {
  registry.register(makeCommandExecutor({ resolveMachine }), { override: true, builtin: true });
  registry.register(makeSshExecutor({ resolveMachine }), { override: true, builtin: true });
}
