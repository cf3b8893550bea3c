// Statements prepared once per connection, by SQL text. Preparing costs 20–100 µs, and the hot
// reads (a scheduled tree firing reads its tree five times; a scheduler reads wakeTimes on every
// look) would pay it on each call. The texts are the stores' own constants, so the cache stays small.
import type Database from "better-sqlite3";

export function statementCache(db: Database.Database): (text: string) => Database.Statement {
  const prepared = new Map<string, Database.Statement>();
  return (text) => {
    let st = prepared.get(text);
    if (!st) {
      st = db.prepare(text);
      prepared.set(text, st);
    }
    return st;
  };
}
