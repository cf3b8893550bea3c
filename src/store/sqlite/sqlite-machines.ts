// The machines of the SQLite store (DESIGN §9), on the SqliteStore's connection; one SQL file per
// statement in ./machines.
import type Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { normalizeScope } from "../../core/scope.js";
import { scopeAncestors, type MachineRow, type MachineStore } from "../machine-store.js";

const here = dirname(fileURLToPath(import.meta.url));
const sql = (name: string) => readFileSync(join(here, "machines", `${name}.sql`), "utf8");

type Row = Record<string, any>;

function toRow(r: Row): MachineRow {
  return {
    owner: r.owner,
    name: r.name,
    kind: r.kind,
    host: r.host,
    port: r.port,
    username: r.username,
    key_path: r.key_path,
    password_env: r.password_env,
    known_hosts: r.known_hosts,
    labels: JSON.parse(r.labels),
    created_at: r.created_at,
  };
}

export class SqliteMachines implements MachineStore {
  private readonly st: Record<"insert" | "delete" | "list", Database.Statement>;

  constructor(db: Database.Database) {
    this.st = { insert: db.prepare(sql("insert")), delete: db.prepare(sql("delete")), list: db.prepare(sql("list")) };
  }

  async add(row: MachineRow): Promise<boolean> {
    const info = this.st.insert.run({ ...row, owner: normalizeScope(row.owner), labels: JSON.stringify(row.labels) });
    return info.changes === 1;
  }

  async list(scope: string): Promise<MachineRow[]> {
    const s = normalizeScope(scope);
    return (this.st.list.all({ scope: s, ancestors: JSON.stringify(scopeAncestors(s)) }) as Row[]).map(toRow);
  }

  async remove(owner: string, name: string): Promise<boolean> {
    return this.st.delete.run({ owner: normalizeScope(owner), name }).changes === 1;
  }
}
