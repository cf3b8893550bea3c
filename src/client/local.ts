import { readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { basename, extname } from "node:path";
import { InputError, NotFoundError } from "../core/errors.js";
import type { BaseTaskClass, Executor, RuntimeSettings } from "../core/executor.js";
import { DEFAULT_SETTINGS } from "../core/executor.js";
import { ExecutorRegistry, globalRegistry } from "../core/registry.js";
import { normalizeScope } from "../core/scope.js";
import type { GroveEvent, NewTree, Task, Tree } from "../core/types.js";
import { Runner } from "../engine/runner.js";
import { makeAgentExecutor } from "../agent/executor.js";
import { registerBuiltins, registerMachineExecutors } from "../executors/index.js";
import { MachineRegistry } from "../machines/registry.js";
import { hasMachines } from "../store/machine-store.js";
import { openStore, type Store } from "../store/index.js";
import type { PendingApproval, TaskFilter } from "../store/store.js";
import { loadTree, MachinesNeeded, parseTreeText, type FleetMachine } from "../tree/index.js";
import { AgentClient } from "./agent.js";
import { RemoteGrove, type RemoteOptions } from "./remote.js";
import { summarizeApproval, treeResult, type TreeResult } from "./result.js";

export interface LocalOptions {
  /** SQLite path (default `.grove/grove.db`), `:memory:`, or an opened Store. */
  db?: string | Store;
  /** The caller's scope (DESIGN §8); "" sees everything. */
  scope?: string;
  executors?: (Executor | BaseTaskClass)[];
  concurrency?: number;
  leaseMs?: number;
  settings?: Partial<RuntimeSettings>;
}

export interface RunOptions {
  concurrency?: number;
  /** Called with every event this process appends while the tree runs. */
  onEvent?: (e: GroveEvent) => void;
  signal?: AbortSignal;
}

/**
 * grove in-process: the same operations as the CLI (and, later, the remote client).
 *
 * ```ts
 * const grove = await Grove.local({ db: ".grove/grove.db", executors: [greet] });
 * const result = await grove.run({ name: "hi", tasks: [{ name: "greet", executor: "greet", inputs: { name: "Ada" } }] });
 * ```
 */
export class Grove {
  readonly registry: ExecutorRegistry;
  readonly scope: string;
  /** The AI agent as an SDK call: `grove.agent.run({prompt, outputSchema, …})` (DESIGN §9). */
  readonly agent: AgentClient;
  /** The machines in the store (DESIGN §9); executors given `machine: NAME` resolve through it. */
  readonly machines: MachineRegistry | undefined;
  private readonly settings: RuntimeSettings;

  private constructor(
    readonly store: Store,
    private readonly opts: LocalOptions,
  ) {
    this.registry = globalRegistry.clone();
    registerBuiltins(this.registry);
    this.scope = normalizeScope(opts.scope ?? process.env.GROVE_SCOPE);
    this.machines = hasMachines(store) ? new MachineRegistry(store.machines()) : undefined;
    const machines = this.machines;
    // Executors given `machine: NAME` (command, ssh, agent) find it in this store's registry,
    // scoped to the task's owner; the SDK's agent calls use this Grove's scope.
    if (machines) registerMachineExecutors(this.registry, machines.resolver);
    this.registry.register(makeAgentExecutor(machines ? { resolveMachine: machines.resolver } : {}), { override: true, builtin: true });
    this.agent = machines ? new AgentClient((name) => machines.resolve(name, this.scope)) : new AgentClient();
    for (const ex of opts.executors ?? []) this.registry.register(ex, { override: true });
    this.settings = { ...DEFAULT_SETTINGS, ...opts.settings };
  }

  static async local(opts: LocalOptions = {}): Promise<Grove> {
    const store = typeof opts.db === "object" ? opts.db : await openStore(opts.db);
    return new Grove(store, opts);
  }

  /** The same API against a running `grove serve` (HTTP; see src/client/remote.ts). */
  static remote(opts: RemoteOptions): RemoteGrove {
    return new RemoteGrove(opts);
  }

  register(executor: Executor | BaseTaskClass): Executor {
    return this.registry.register(executor, { override: true });
  }

  /** Parses and validates a tree file; nothing is stored when it is invalid (InputError). */
  async readTreeFile(path: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(code === "ENOENT" ? `${path}: no such file` : `${path}: ${(err as Error).message}`, "file");
    }
    return parseTreeText(text, path);
  }

  /** Validates a tree definition (grove or apflow format) and stores it; returns the new tree. */
  async createTree(doc: unknown, opts: { name?: string; inputs?: Record<string, unknown> } = {}): Promise<Tree> {
    const load = (machines?: readonly FleetMachine[] | "on-demand") => loadTree(doc, { registry: this.registry, owner: this.scope, defaultName: opts.name ?? "tree", machines });
    let tree: NewTree;
    try {
      // The machine list is read only for a tree with fleet tasks (one query less per tree).
      tree = load(this.machines ? "on-demand" : undefined);
    } catch (err) {
      if (!(err instanceof MachinesNeeded) || !this.machines) throw err;
      tree = load(await this.machines.fleetView(this.scope));
    }
    if (opts.inputs) tree.inputs = { ...tree.inputs, ...opts.inputs };
    return this.store.createTree(tree);
  }

  async createTreeFromFile(path: string, opts: { inputs?: Record<string, unknown> } = {}): Promise<Tree> {
    const doc = await this.readTreeFile(path);
    return this.createTree(doc, { name: basename(path, extname(path)), inputs: opts.inputs });
  }

  /**
   * Runs a stored tree in this process until it is terminal — or until it cannot go on without a
   * human: then it resolves with the tree still `running` and `approvals` listing the tasks that
   * wait (decide them with approve()/reject(), then call runTree again, here or in any process).
   */
  async runTree(treeId: string, opts: RunOptions = {}): Promise<TreeResult> {
    const tree = await this.store.getTree(treeId, this.scope);
    if (!tree) throw new NotFoundError(`no tree ${treeId}`);
    const unsubscribe = opts.onEvent ? this.store.bus.on(opts.onEvent) : () => undefined;
    const runner = new Runner({
      store: this.store,
      registry: this.registry,
      treeId,
      concurrency: opts.concurrency ?? this.opts.concurrency,
      leaseMs: this.opts.leaseMs ?? envInt("GROVE_LEASE_MS"),
      settings: this.settings,
    });
    const onAbort = () => runner.stop();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await runner.run();
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      unsubscribe();
    }
    const result = await this.treeResult(treeId);
    if (result.status === "running") {
      const waiting = await this.listApprovals({ treeId });
      if (waiting.length > 0) result.approvals = waiting.map(summarizeApproval);
    }
    return result;
  }

  /** Creates a tree from a definition and runs it. */
  async run(doc: unknown, opts: RunOptions & { name?: string; inputs?: Record<string, unknown> } = {}): Promise<TreeResult> {
    const tree = await this.createTree(doc, { name: opts.name, inputs: opts.inputs });
    return this.runTree(tree.id, opts);
  }

  async treeResult(treeId: string): Promise<TreeResult> {
    const tree = await this.store.getTree(treeId, this.scope);
    if (!tree) throw new NotFoundError(`no tree ${treeId}`);
    return treeResult(tree, await this.store.treeTasks(treeId, this.scope));
  }

  async getTask(id: string): Promise<Task> {
    const t = await this.store.getTask(id, this.scope);
    if (!t) throw new NotFoundError(`no task ${id}`);
    return t;
  }

  listTasks(filter: Omit<TaskFilter, "scope"> = {}): Promise<Task[]> {
    return this.store.listTasks({ ...filter, scope: this.scope });
  }

  /** Cancels a task, or every unfinished task of a tree; running attempts stop within 1 s. */
  cancel(id: string, reason?: string): Promise<number> {
    return this.store.cancel(id, { scope: this.scope, reason });
  }

  retry(taskId: string): Promise<Task[]> {
    return this.store.retry(taskId, { scope: this.scope });
  }

  /** Approves a task waiting for approval: it becomes ready and resumes with `decision: "approved"`. */
  approve(taskId: string, opts: { reason?: string; by?: string } = {}): Promise<Task> {
    return this.store.decide(taskId, "approved", { scope: this.scope, by: opts.by ?? this.decider(), reason: opts.reason });
  }

  /** Rejects it: the executor resumes with `decision: "rejected"` (and decides what that means). */
  reject(taskId: string, opts: { reason?: string; by?: string } = {}): Promise<Task> {
    return this.store.decide(taskId, "rejected", { scope: this.scope, by: opts.by ?? this.decider(), reason: opts.reason });
  }

  /** Tasks waiting for approval within this scope, oldest request first. */
  listApprovals(filter: { treeId?: string; limit?: number } = {}): Promise<PendingApproval[]> {
    return this.store.listApprovals({ ...filter, scope: this.scope });
  }

  /** Who is deciding, when the caller does not say: the scope acted as, else the OS user. */
  private decider(): string | undefined {
    if (this.scope) return this.scope;
    try {
      return userInfo().username;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.machines?.close();
    return this.store.close();
  }
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (!v) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
