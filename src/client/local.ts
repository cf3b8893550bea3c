import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { InputError, NotFoundError } from "../core/errors.js";
import type { BaseTaskClass, Executor, RuntimeSettings } from "../core/executor.js";
import { DEFAULT_SETTINGS } from "../core/executor.js";
import { ExecutorRegistry, globalRegistry } from "../core/registry.js";
import { normalizeScope } from "../core/scope.js";
import type { GroveEvent, Task, Tree } from "../core/types.js";
import { Runner } from "../engine/runner.js";
import { registerBuiltins } from "../executors/index.js";
import { openStore, type Store } from "../store/index.js";
import type { TaskFilter } from "../store/store.js";
import { loadTree, parseTreeText } from "../tree/index.js";
import { RemoteGrove, type RemoteOptions } from "./remote.js";
import { treeResult, type TreeResult } from "./result.js";

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
  private readonly settings: RuntimeSettings;

  private constructor(
    readonly store: Store,
    private readonly opts: LocalOptions,
  ) {
    this.registry = globalRegistry.clone();
    registerBuiltins(this.registry);
    for (const ex of opts.executors ?? []) this.registry.register(ex, { override: true });
    this.scope = normalizeScope(opts.scope ?? process.env.GROVE_SCOPE);
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
    const tree = loadTree(doc, { registry: this.registry, owner: this.scope, defaultName: opts.name ?? "tree" });
    if (opts.inputs) tree.inputs = { ...tree.inputs, ...opts.inputs };
    return this.store.createTree(tree);
  }

  async createTreeFromFile(path: string, opts: { inputs?: Record<string, unknown> } = {}): Promise<Tree> {
    const doc = await this.readTreeFile(path);
    return this.createTree(doc, { name: basename(path, extname(path)), inputs: opts.inputs });
  }

  /** Runs a stored tree in this process until it is terminal. */
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
    return this.treeResult(treeId);
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

  close(): Promise<void> {
    return this.store.close();
  }
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (!v) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
