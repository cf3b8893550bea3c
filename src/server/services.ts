// Everything a method handler may use, built once per server (and once per `grove mcp`).
import type { RuntimeSettings } from "../core/executor.js";
import type { ExecutorRegistry } from "../core/registry.js";
import { MachineRegistry } from "../machines/registry.js";
import { hasMachines } from "../store/machine-store.js";
import type { Store } from "../store/store.js";
import { KeyStore } from "./auth/keys.js";
import { serverDb, type ServerDb } from "./db.js";
import { HookStore } from "./hooks/hook-store.js";
import { Metrics } from "./metrics.js";
import { TreeRunner } from "./tree-runner.js";

export interface ServicesOptions {
  store: Store;
  registry: ExecutorRegistry;
  settings: RuntimeSettings;
  /** The database spec this process uses: schedule argv targets are dispatched with it. */
  dbSpec: string;
  executorModules?: string[];
  concurrency?: number;
  leaseMs?: number;
  /**
   * The machine registry `machines.*` and `agent.run` use (grove serve passes the one its
   * executors are bound to). Default: one over the store's machines, when the store has them.
   */
  machines?: MachineRegistry;
}

export interface ServerServices {
  store: Store;
  registry: ExecutorRegistry;
  settings: RuntimeSettings;
  db: ServerDb;
  keys: KeyStore;
  hooks: HookStore;
  trees: TreeRunner;
  metrics: Metrics;
  dbSpec: string;
  executorModules: string[];
  /** Named machines (DESIGN §9); undefined when the store keeps none. */
  machines: MachineRegistry | undefined;
  /** Closes what createServices opened itself (a default machine registry's connections). */
  close(): Promise<void>;
}

export function createServices(o: ServicesOptions): ServerServices {
  const db = serverDb(o.store);
  const ownMachines = o.machines === undefined && hasMachines(o.store) ? new MachineRegistry(o.store.machines()) : undefined;
  return {
    store: o.store,
    registry: o.registry,
    settings: o.settings,
    db,
    keys: new KeyStore(db),
    hooks: new HookStore(db),
    trees: new TreeRunner({ store: o.store, registry: o.registry, settings: o.settings, concurrency: o.concurrency, leaseMs: o.leaseMs }),
    metrics: new Metrics(o.store, db),
    dbSpec: o.dbSpec,
    executorModules: o.executorModules ?? [],
    machines: o.machines ?? ownMachines,
    async close() {
      await ownMachines?.close();
    },
  };
}
