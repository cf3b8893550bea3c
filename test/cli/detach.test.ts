import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { grove, groveBackground, tempDir } from "../helpers/cli.js";
import { startWorker } from "../engine/workers.shared.js";

describe("grove run --detach, grove worker, grove tasks watch", () => {
  it("detach stores without running; a worker runs it; watch streams the events until the end", async () => {
    const dir = tempDir();
    const db = join(dir, "g.db");
    const detached = await grove(["run", "examples/diamond.json", "--db", db, "--detach", "--json"]);
    expect(detached.code).toBe(0);
    const { tree_id } = JSON.parse(detached.stdout);
    const counts = JSON.parse((await grove(["tasks", "list", "--db", db, "--tree", tree_id, "--json"])).stdout);
    expect(counts.every((t: { status: string }) => t.status === "ready" || t.status === "pending")).toBe(true);

    const watch = groveBackground(["tasks", "watch", tree_id, "--db", db]);
    const countFile = join(dir, "count");
    writeFileSync(countFile, "");
    const worker = startWorker(db, countFile);
    try {
      expect(await watch.exited).toBe(0);
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
    const out = watch.output().stdout;
    expect(out).toMatch(/started {4}source/);
    expect(out).toMatch(/completed {2}report/);
    expect(out.trim().split("\n").pop()).toBe("tree diamond completed");
    const json = await grove(["tasks", "watch", tree_id, "--db", db, "--json"]);
    const events = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events[events.length - 1].type).toBe("tree.completed");
    expect(events.map((e: { seq: number }) => e.seq)).toEqual([...events.map((e: { seq: number }) => e.seq)].sort((a, b) => a - b));
  });

  it("bad worker flags are input errors", async () => {
    const r = await grove(["worker", "--labels", "machine", "--db", join(tempDir(), "g.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('grove: --labels machine: expected k=v[,k=v…], got "machine"');
    const both = await grove(["run", "--resume", "x", "--detach"]);
    expect(both.code).toBe(2);
  });
});
