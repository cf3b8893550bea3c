// Per-schedule secrets of inbound webhooks (table schedule_hooks, migration 006).
import { randomBytes } from "node:crypto";
import type { ServerDb } from "../db.js";

export interface Hook {
  owner: string;
  name: string;
  secret: string;
}

export class HookStore {
  constructor(private readonly db: ServerDb) {}

  /** The schedule's secret; a new one when it has none or `rotate` (the old one stops working). */
  async secret(owner: string, name: string, opts: { rotate?: boolean; now?: number } = {}): Promise<{ secret: string; created: boolean }> {
    const now = opts.now ?? Date.now();
    return this.db.tx(async (db) => {
      const existing = await db.all("SELECT secret FROM schedule_hooks WHERE owner = $1 AND name = $2", [owner, name]);
      if (existing[0] && !opts.rotate) return { secret: String(existing[0].secret), created: false };
      const secret = `whsec_${randomBytes(32).toString("base64url")}`;
      if (existing[0]) await db.all("UPDATE schedule_hooks SET secret = $3, created_at = $4 WHERE owner = $1 AND name = $2", [owner, name, secret, now]);
      else await db.all("INSERT INTO schedule_hooks (owner, name, secret, created_at) VALUES ($1, $2, $3, $4)", [owner, name, secret, now]);
      return { secret, created: true };
    });
  }

  /** Every hook of a schedule name (one per owner that set one up). */
  async byName(name: string): Promise<Hook[]> {
    const rows = await this.db.all("SELECT owner, name, secret FROM schedule_hooks WHERE name = $1 ORDER BY owner", [name]);
    return rows.map((r) => ({ owner: String(r.owner), name: String(r.name), secret: String(r.secret) }));
  }

  async remove(owner: string, name: string): Promise<void> {
    await this.db.all("DELETE FROM schedule_hooks WHERE owner = $1 AND name = $2", [owner, name]);
  }
}
