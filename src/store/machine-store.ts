// Storage of machines (DESIGN §9), next to a Store: implemented by SqliteStore.machines() and
// PostgresStore.machines(). Rows hold no secret: passwords come from the environment variable
// named in `password_env`, keys stay in their files.
import type { Store } from "./store.js";

export interface MachineRow {
  owner: string;
  name: string;
  kind: "ssh";
  host: string;
  port: number;
  username: string;
  key_path: string | null;
  password_env: string | null;
  known_hosts: string | null;
  labels: Record<string, string>;
  created_at: number;
}

export interface MachineStore {
  /** Inserts a machine; false when `(owner, name)` exists already (nothing is changed). */
  add(row: MachineRow): Promise<boolean>;
  /**
   * The machines `scope` sees: owned inside its subtree (it manages them) or by one of its
   * ancestors, "" included (its tasks may use them). Ordered by name, then owner.
   */
  list(scope: string): Promise<MachineRow[]>;
  /** Deletes one machine; false when there was none. */
  remove(owner: string, name: string): Promise<boolean>;
}

/** The scopes above `scope` and itself: "", "acme", "acme/ops" for "acme/ops". */
export function scopeAncestors(scope: string): string[] {
  const parts = scope === "" ? [] : scope.split("/");
  return ["", ...parts.map((_, i) => parts.slice(0, i + 1).join("/"))];
}

type WithMachines = Store & { machines(): MachineStore };

export function hasMachines(store: Store): store is WithMachines {
  return typeof (store as Partial<WithMachines>).machines === "function";
}

export function machinesOf(store: Store): MachineStore {
  if (!hasMachines(store)) throw new Error(`machines are not supported on the ${store.kind} store`);
  return store.machines();
}
