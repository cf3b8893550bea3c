import type { Store } from "./store.js";

export type { Store, Outcome, ClaimOptions, ClaimedTask, PendingApproval, DecideOptions, TaskFilter, TreeFilter, EventFilter, Attempt } from "./store.js";

export const DEFAULT_DB = ".grove/grove.db";

/**
 * Opens the store named by `--db` / GROVE_DATABASE_URL: a SQLite file path (default
 * `.grove/grove.db`), `sqlite:PATH`, `:memory:`, or a `postgres://` / `postgresql://` URL
 * (the PostgreSQL store and `pg` are loaded only then).
 */
export async function openStore(db?: string): Promise<Store> {
  const target = db || process.env.GROVE_DATABASE_URL || DEFAULT_DB;
  if (/^postgres(ql)?:\/\//.test(target)) {
    const { PostgresStore } = await import("./postgres/postgres-store.js");
    return PostgresStore.open(target);
  }
  const path = target.startsWith("sqlite:") ? target.slice("sqlite:".length) : target;
  const { SqliteStore } = await import("./sqlite/sqlite-store.js");
  return new SqliteStore({ path });
}
