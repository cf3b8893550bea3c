import { compileSchema } from "./validation.js";
import { fromClass, isBaseTaskClass, isExecutor, type BaseTaskClass, type Executor } from "./executor.js";

/** The executors a process knows, by id. */
export class ExecutorRegistry {
  private readonly byId = new Map<string, Executor>();

  /**
   * `builtin`: grove's own executors, whose schemas the test suite compiles. They are compiled on
   * first use instead of here: compiling all of them costs ~300 ms of CPU at every process start
   * (`grove worker` included), for executors most processes never run.
   */
  register(executor: Executor | BaseTaskClass, opts: { override?: boolean; builtin?: boolean } = {}): Executor {
    const ex = isBaseTaskClass(executor) ? fromClass(executor) : executor;
    if (!isExecutor(ex)) throw new Error("not an executor: use defineExecutor() or extend BaseTask");
    const existing = this.byId.get(ex.id);
    if (existing && existing !== ex && !opts.override) {
      throw new Error(`executor "${ex.id}" is already registered`);
    }
    if (!opts.builtin) {
      try {
        compileSchema(ex.inputSchema);
        if (ex.outputSchema) compileSchema(ex.outputSchema);
      } catch (err) {
        throw new Error(`executor "${ex.id}" has an invalid schema: ${(err as Error).message}`);
      }
    }
    this.byId.set(ex.id, ex);
    return ex;
  }

  get(id: string): Executor | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  list(): Executor[] {
    return [...this.byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** A copy, so that a run can add executors without touching the shared registry. */
  clone(): ExecutorRegistry {
    const r = new ExecutorRegistry();
    for (const ex of this.byId.values()) r.byId.set(ex.id, ex);
    return r;
  }
}

/**
 * The process-wide registry that `register()` writes to ("import to register", as in seed 002).
 * Modules loaded with `--executors` may use it or export their executors.
 */
export const globalRegistry = new ExecutorRegistry();

/**
 * `@register()` on a BaseTask subclass (TypeScript decorators), or `register(executor)` as a call.
 */
export function register(): <T extends BaseTaskClass>(cls: T, _ctx?: unknown) => T;
export function register<T extends Executor | BaseTaskClass>(executor: T): T;
export function register(executor?: Executor | BaseTaskClass): unknown {
  if (executor === undefined) {
    return <T extends BaseTaskClass>(cls: T) => {
      globalRegistry.register(cls, { override: true });
      return cls;
    };
  }
  globalRegistry.register(executor, { override: true });
  return executor;
}
