// The public SDK: `import { Grove, defineExecutor, BaseTask, register } from "grove"`.
export * from "./core/index.js";
export { Grove, type LocalOptions, type RunOptions } from "./client/local.js";
export type { TreeResult, TaskSummary, ApprovalSummary } from "./client/result.js";
export { RemoteGrove, RemoteError, type RemoteOptions, type RemoteAgentEvent, type RemoteAgentOptions, type RemoteAgentResult, type RemoteDecision, type RemoteMachine } from "./client/remote.js";
export type { Store, Outcome, ClaimedTask, PendingApproval } from "./store/store.js";
export { openStore } from "./store/index.js";
export { SqliteStore } from "./store/sqlite/sqlite-store.js";
export { Runner, type RunnerOptions } from "./engine/runner.js";
export { builtinExecutors, registerBuiltins } from "./executors/index.js";
export { agent, makeAgentExecutor, type AgentExecutorOptions } from "./agent/executor.js";
export type { AgentEvent, AgentResult, AgentRunOptions, AgentState, ApprovalMode, PlannedAction } from "./agent/types.js";
export { AgentClient } from "./client/agent.js";
export { LocalMachine, localMachine, bwrapAvailable } from "./machines/local.js";
export type { Machine, ExecOptions, ExecResult, DirEntry } from "./machines/types.js";
