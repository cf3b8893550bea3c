import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { makeTree, storeConformance } from "./conformance.js";

const dir = mkdtempSync(join(tmpdir(), "grove-sqlite-"));
let n = 0;
storeConformance("sqlite", async () => new SqliteStore({ path: join(dir, `conf-${n++}.db`) }));

describe("SqliteStore specifics", () => {
  it("is a real WAL-mode file that another connection reads", async () => {
    const path = join(dir, "wal.db");
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    expect(a.db.pragma("journal_mode", { simple: true })).toBe("wal");
    const t = makeTree([{ name: "x" }]);
    await a.createTree(t);
    expect((await b.getTree(t.id))?.name).toBe("t");
    await a.close();
    await b.close();
  });

  it("applies migrations once, also when reopened", async () => {
    const path = join(dir, "mig.db");
    await new SqliteStore({ path }).close();
    const s = new SqliteStore({ path });
    const versions = s.db.prepare("SELECT version FROM schema_migrations").all();
    expect(versions).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    await s.close();
  });

  it("refuses to rewrite events", async () => {
    const s = new SqliteStore({ path: ":memory:" });
    const t = makeTree([{ name: "x" }]);
    await s.createTree(t);
    expect(() => s.db.prepare("UPDATE events SET type = 'x'").run()).toThrow(/append-only/);
    expect(() => s.db.prepare("DELETE FROM events").run()).toThrow(/append-only/);
    await s.close();
  });
});
