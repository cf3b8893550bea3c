// Copies the SQL files (one per state transition, plus migrations) next to the compiled store.
import { cpSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

const pairs = [
  ["src/store/sqlite", "dist/store/sqlite"],
  ["src/store/postgres", "dist/store/postgres"],
];
for (const [from, to] of pairs) {
  const walk = (dir, out) => {
    mkdirSync(out, { recursive: true });
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), join(out, entry.name));
      else if (entry.name.endsWith(".sql")) cpSync(join(dir, entry.name), join(out, entry.name));
    }
  };
  walk(from, to);
}
