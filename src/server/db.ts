// The server's own tables (api_keys, schedule_hooks; migration 006) live in the store's database.
// They are not part of the Store interface (no engine code needs them), so the server queries them
// here through the store's connection: SQL is written with `$1` placeholders, which SQLite also
// understands once rewritten to named `@p1` parameters.
import type { Store } from "../store/store.js";

type Row = Record<string, unknown>;

export interface ServerDb {
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs `fn` in one transaction (SQLite: immediate; PostgreSQL: READ COMMITTED). */
  tx<T>(fn: (db: Pick<ServerDb, "all">) => Promise<T>): Promise<T>;
}

interface SqliteLike {
  db: { prepare(sql: string): { all(...p: unknown[]): unknown[]; reader: boolean; run(...p: unknown[]): unknown }; exec(sql: string): void };
}
interface PgClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}
interface PgLike {
  pool: PgClient & { connect(): Promise<PgClient & { release(err?: Error | boolean): void }> };
}

const toSqlite = (sql: string) => sql.replace(/\$(\d+)/g, "@p$1");
const named = (params: unknown[]) => Object.fromEntries(params.map((v, i) => [`p${i + 1}`, v]));

/** BigInt columns come back as strings from pg; times here are epoch ms and fit in a number. */
function normalizePg(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === "string" && /_at$/.test(k) && /^\d+$/.test(v) ? Number(v) : v;
  return out;
}

export function serverDb(store: Store): ServerDb {
  if (store.kind === "sqlite") {
    const { db } = store as unknown as SqliteLike;
    const all = async (sql: string, params: unknown[] = []) => {
      const st = db.prepare(toSqlite(sql));
      const args = params.length > 0 ? [named(params)] : [];
      if (st.reader) return st.all(...args) as Row[];
      st.run(...args);
      return [];
    };
    return {
      all,
      // better-sqlite3 is synchronous, and the callbacks here only await these synchronous
      // statements, so nothing else interleaves between BEGIN and COMMIT.
      async tx(fn) {
        db.exec("BEGIN IMMEDIATE");
        try {
          const out = await fn({ all });
          db.exec("COMMIT");
          return out;
        } catch (err) {
          db.exec("ROLLBACK");
          throw err;
        }
      },
    };
  }
  const { pool } = store as unknown as PgLike;
  return {
    async all(sql, params = []) {
      return (await pool.query(sql, params)).rows.map(normalizePg);
    },
    async tx(fn) {
      const c = await pool.connect();
      try {
        await c.query("BEGIN");
        const out = await fn({ all: async (sql, params = []) => (await c.query(sql, params)).rows.map(normalizePg) });
        await c.query("COMMIT");
        return out;
      } catch (err) {
        await c.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    },
  };
}
