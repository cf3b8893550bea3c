// The machines of the PostgreSQL store (DESIGN §9), on the PostgresStore's pool; one SQL file per
// statement in ./machines, run as named (prepared) statements.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { normalizeScope } from "../../core/scope.js";
import { scopeAncestors, type MachineRow, type MachineStore } from "../machine-store.js";
import { compile, type Stmt } from "./compile.js";

const here = dirname(fileURLToPath(import.meta.url));
const FILES = ["insert", "delete", "list"] as const;

let STMTS: Record<(typeof FILES)[number], Stmt> | undefined;
function stmts(): Record<(typeof FILES)[number], Stmt> {
  STMTS ??= Object.fromEntries(
    FILES.map((f) => [f, compile(`grove_machines_${f}`, readFileSync(join(here, "machines", `${f}.sql`), "utf8"))]),
  ) as Record<(typeof FILES)[number], Stmt>;
  return STMTS;
}

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
    labels: r.labels ?? {},
    created_at: Number(r.created_at),
  };
}

export class PostgresMachines implements MachineStore {
  private readonly st = stmts();

  constructor(private readonly pool: pg.Pool) {}

  private async run(s: Stmt, values: Record<string, unknown>): Promise<Row[]> {
    const res = await this.pool.query({ name: s.name, text: s.text, values: s.params.map((p) => values[p]) });
    return res.rows as Row[];
  }

  async add(row: MachineRow): Promise<boolean> {
    const rows = await this.run(this.st.insert, { ...row, owner: normalizeScope(row.owner), labels: JSON.stringify(row.labels) });
    return rows.length === 1;
  }

  async list(scope: string): Promise<MachineRow[]> {
    const s = normalizeScope(scope);
    return (await this.run(this.st.list, { scope: s, ancestors: scopeAncestors(s) })).map(toRow);
  }

  async remove(owner: string, name: string): Promise<boolean> {
    return (await this.run(this.st.delete, { owner: normalizeScope(owner), name })).length === 1;
  }
}
