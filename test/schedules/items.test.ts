// ItemWriter: a run's items reach the store in order, all of them by close(); with a linger (tree
// targets), events that come close together are written together.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ItemWriter } from "../../src/schedules/capture.js";
import { schedulesOf, type ScheduleStore } from "../../src/store/schedule-store.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { tempDir } from "../helpers/cli.js";
import { def } from "./conformance.js";

async function withRun(fn: (s: ScheduleStore, runId: string, writes: () => number) => Promise<void>) {
  const store = new SqliteStore({ path: join(tempDir("grove-items-"), "g.db") });
  const s = schedulesOf(store);
  await s.add(def("job"), { overwrite: false });
  const [c] = await s.claimDue({ scope: "", runner: "r", leaseMs: 10_000, limit: 1 });
  let writes = 0;
  const append = s.appendItems.bind(s);
  s.appendItems = async (runId, items) => {
    writes++;
    return append(runId, items);
  };
  try {
    await fn(s, c!.run.id, () => writes);
  } finally {
    s.appendItems = append;
    await store.close();
  }
}

describe("ItemWriter", () => {
  it("without a linger, the first item is written at once and the rest batch behind it", async () => {
    await withRun(async (s, runId, writes) => {
      const w = new ItemWriter(s, runId);
      w.push({ type: "output", value: 1 });
      await new Promise((r) => setTimeout(r, 20));
      expect((await s.items([runId])).map((i) => i.seq)).toEqual([1]);
      for (let i = 2; i <= 5; i++) w.push({ type: "output", value: i });
      await w.close();
      expect((await s.items([runId])).map((i) => i.item)).toEqual([1, 2, 3, 4, 5].map((value) => ({ type: "output", value })));
      expect(writes()).toBeLessThanOrEqual(3);
    });
  });

  it("with a linger, items pushed within it are one write; close() writes what is left at once", async () => {
    await withRun(async (s, runId, writes) => {
      const w = new ItemWriter(s, runId, undefined, 10_000);
      for (let i = 1; i <= 6; i++) w.push({ type: "output", value: i });
      await new Promise((r) => setTimeout(r, 50));
      expect(await s.items([runId])).toEqual([]); // still lingering
      const t = Date.now();
      await w.close();
      expect(Date.now() - t).toBeLessThan(1000);
      expect(writes()).toBe(1);
      expect((await s.items([runId])).map((i) => [i.seq, i.item])).toEqual([1, 2, 3, 4, 5, 6].map((v) => [v, { type: "output", value: v }]));
    });
  });
});
