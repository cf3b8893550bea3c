// `grove schedules …` as a user runs it: real processes of the built CLI (npm run build first).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { CLI, grove, ROOT, tempDir } from "../helpers/cli.js";
import { builtinExecutors } from "../../src/executors/index.js";

/** `executors list` prints one line (one run item) per built-in executor. */
// The built-ins plus the agent executor (registered by the CLI and the client, above executors/).
const EXECUTOR_COUNT = builtinExecutors.length + 1;

const lines = (s: string) => s.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));

function setup() {
  const dir = tempDir("grove-sched-");
  const db = join(dir, "g.db");
  // --db goes before a scheduled command line's `--`
  const g = (args: string[], env: Record<string, string> = {}) => {
    const end = args.includes("--") ? args.indexOf("--") : args.length;
    return grove([...args.slice(0, end), "--db", db, ...args.slice(end)], { env });
  };
  const tree = (name: string, body: unknown) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };
  return { dir, db, g, tree };
}

describe("grove schedules add: bad input is exit 2, one line naming the flag, nothing stored", () => {
  it("refuses each mistake", async () => {
    const { g, tree } = setup();
    expect((await g(["schedules", "add", "--name", "taken", "--every", "5m", "--", "executors", "list"])).code).toBe(0);
    const broken = tree("broken", { tasks: [{ name: "a", executor: "nope" }] });
    const cases: [string[], RegExp][] = [
      [["--name", "taken", "--every", "5m", "--", "executors", "list"], /schedule "taken" already exists \(version 1\); use --overwrite/],
      [["--name", "x", "--every", "5x", "--", "executors", "list"], /--every 5x: expected a duration like 90s, 5m, 2h or 1d/],
      [["--name", "x", "--every", "0s", "--", "executors", "list"], /--every 0s/],
      [["--name", "x", "--cron", "0 9 * *", "--", "executors", "list"], /--cron "0 9 \* \*":/],
      [["--name", "x", "--cron", "0 9 * * *", "--tz", "Mars/Olympus", "--", "executors", "list"], /--tz Mars\/Olympus: not a known IANA time zone/],
      [["--name", "x", "--every", "5m", "--tz", "UTC", "--", "executors", "list"], /--tz only applies to --cron/],
      [["--name", "x", "--at", "2025-13-01T00:00:00Z", "--", "executors", "list"], /--at 2025-13-01T00:00:00Z: expected an ISO 8601 time/],
      [["--name", "x", "--at", "2025-06-01T09:00", "--", "executors", "list"], /--at 2025-06-01T09:00: expected an ISO 8601 time with a zone/],
      [["--name", "x", "--every", "5m", "--start-at", "soon", "--", "executors", "list"], /--start-at soon/],
      [["--name", "x", "--every", "5m", "--start-at", "2025-02-01", "--end-at", "2025-01-01", "--", "executors", "list"], /--end-at must be after --start-at/],
      [["--name", "x", "--every", "5m", "--max-runs", "0", "--", "executors", "list"], /--max-runs must be a positive integer/],
      [["--name", "x", "--", "executors", "list"], /give exactly one of --oneshot, --at ISO, --every DURATION, --cron EXPR/],
      [["--name", "x", "--oneshot", "--every", "5m", "--", "executors", "list"], /exactly one of .*got --oneshot and --every/],
      [["--every", "5m", "--", "executors", "list"], /--name is required/],
      [["--name", "bad name", "--every", "5m", "--", "executors", "list"], /--name bad name:/],
      [["--name", "x", "--every", "5m"], /give what to fire: --tree FILE, or a grove command line after --/],
      [["--name", "x", "--every", "5m", "--tree", broken], /task "a": executor "nope" is not registered/],
      [["--name", "x", "--every", "5m", "--tree", "no-such.json"], /no-such\.json: no such file/],
      [["--name", "x", "--every", "5m", "--", "nope"], /"nope" is not a grove command/],
      [["--name", "x", "--every", "5m", "--", "tasks"], /"tasks" needs a subcommand/],
      [["--name", "x", "--every", "5m", "--", "tasks", "list", "--as", "acme"], /--as in the scheduled command/],
      [["--name", "x", "--every", "5m", "--", "tasks", "list", "--db=other.db"], /--db in the scheduled command/],
      [["--name", "x", "--every", "5m", "--", "scheduler"], /"grove scheduler" cannot be scheduled/],
      [["--name", "x", "--every", "5m", "--", "schedules", "run"], /"grove schedules run" cannot be scheduled/],
    ];
    for (const [args, message] of cases) {
      const r = await g(["schedules", "add", ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
    }
    const list = await g(["schedules", "list", "--json"]);
    expect(JSON.parse(list.stdout).map((s: any) => [s.name, s.version])).toEqual([["taken", 1]]);
  });
});

describe("grove schedules: add, list, show, overwrite, enable/disable, delete", () => {
  it("keeps versions and prints the documented JSON", async () => {
    const { g } = setup();
    const added = await g(["schedules", "add", "--name", "disk", "--every", "5m", "--max-runs", "3", "--json", "--", "tasks", "list", "--json"]);
    expect(added.code).toBe(0);
    const a = JSON.parse(added.stdout);
    expect(a).toMatchObject({ name: "disk", version: 1, owner: "", kind: "interval", every: "5m", max_runs: 3, enabled: true, run_count: 0, target: { type: "argv", argv: ["tasks", "list", "--json"] } });
    expect(Date.parse(a.next_due_at)).toBe(Date.parse(a.created_at));

    const over = JSON.parse((await g(["schedules", "add", "--name", "disk", "--cron", "0 9 * * 1-5", "--tz", "Europe/Paris", "--overwrite", "--json", "--tree", join(ROOT, "examples/hello.json")])).stdout);
    expect(over).toMatchObject({ name: "disk", version: 2, kind: "cron", cron: "0 9 * * 1-5", tz: "Europe/Paris", every: null, target: { type: "tree", name: "hello" } });
    expect(new Date(over.next_due_at).getUTCMinutes()).toBe(0);

    const list = JSON.parse((await g(["schedules", "list", "--json"])).stdout);
    expect(list).toHaveLength(1);
    for (const k of ["name", "version", "owner", "kind", "enabled", "run_count", "last_fired_at", "next_due_at", "last_error", "error_count"]) expect(list[0]).toHaveProperty(k);

    const show = JSON.parse((await g(["schedules", "show", "disk", "--json"])).stdout);
    expect(show.versions.map((v: any) => [v.version, v.kind])).toEqual([
      [1, "interval"],
      [2, "cron"],
    ]);
    expect(show.recent_runs).toEqual([]);
    expect((await g(["schedules", "show", "disk"])).stdout).toMatch(/^disk v2\n {2}when {8}cron 0 9 \* \* 1-5 \(Europe\/Paris\)/);

    const off = JSON.parse((await g(["schedules", "disable", "disk", "--json"])).stdout);
    expect(off.enabled).toBe(false);
    expect((await g(["schedules", "enable", "disk"])).stdout).toMatch(/^enabled schedule disk; next due /);

    const del = await g(["schedules", "delete", "disk", "--json"]);
    expect(JSON.parse(del.stdout)).toEqual({ name: "disk", owner: "", version: 2, deleted: true });
    expect(JSON.parse((await g(["schedules", "list", "--json"])).stdout)).toEqual([]);
    const all = JSON.parse((await g(["schedules", "list", "--all", "--json"])).stdout);
    expect(all.map((s: any) => [s.name, s.version, s.deleted_at !== null])).toEqual([["disk", 2, true]]);
    const gone = await g(["schedules", "show", "nope"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('grove: no schedule "nope"\n');
    expect((await g(["schedules", "delete", "disk"])).code).toBe(1);
    // a deleted name can be added again; its versions keep counting
    const again = JSON.parse((await g(["schedules", "add", "--name", "disk", "--oneshot", "--json", "--", "executors", "list"])).stdout);
    expect(again.version).toBe(3);
  });
});

describe("grove schedules run and logs", () => {
  it("prints one summary per run, or every item with --stream-all, and stores every item", async () => {
    const { g } = setup();
    await g(["schedules", "add", "--name", "ls", "--oneshot", "--", "executors", "list", "--json"]);
    await g(["schedules", "add", "--name", "hello", "--oneshot", "--tree", join(ROOT, "examples/hello.json")]);
    const r = await g(["schedules", "run", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const summaries = lines(r.stdout);
    expect(summaries.map((s) => Object.keys(s).sort())).toEqual([
      ["owner", "run_id", "schedule", "success", "version"],
      ["owner", "run_id", "schedule", "success", "version"],
    ]);
    expect(summaries.map((s) => [s.schedule, s.version, s.owner, s.success]).sort()).toEqual([
      ["hello", 1, "", true],
      ["ls", 1, "", true],
    ]);
    // fired once: nothing is due any more
    expect((await g(["schedules", "run", "--json"])).stdout).toBe("");
    expect((await g(["schedules", "run"])).stdout).toBe("no schedules due\n");

    const logs = JSON.parse((await g(["schedules", "logs", "ls", "--json"])).stdout);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ run_id: summaries.find((s) => s.schedule === "ls").run_id, schedule: "ls", status: "succeeded", error: null });
    expect(logs[0].items.map((i: any) => i.item.type)).toEqual(["output"]);
    expect(logs[0].items[0].item.value.map((e: any) => e.id)).toContain("command");

    const tree = JSON.parse((await g(["schedules", "logs", "hello", "--json"])).stdout)[0];
    const types = tree.items.map((i: any) => i.item.type);
    expect(types[0]).toBe("tree");
    expect(types.at(-1)).toBe("result");
    expect(tree.items.at(-1).item.value).toMatchObject({ name: "hello", status: "completed" });
    expect(tree.tree_id).toBe(tree.items[0].item.tree_id);
    expect(tree.items.some((i: any) => i.item.type === "event" && i.item.event.data.message === "Hello, world!")).toBe(true);
    // the tree it created is an ordinary stored tree
    const t = JSON.parse((await g(["tasks", "tree", tree.tree_id, "--json"])).stdout);
    expect(t.status).toBe("completed");

    await g(["schedules", "add", "--name", "ls2", "--oneshot", "--", "executors", "list", "--json"]);
    const all = await g(["schedules", "run", "--stream-all", "--json"]);
    const items = lines(all.stdout);
    expect(items).toHaveLength(1);
    expect(Object.keys(items[0]).sort()).toEqual(["item", "owner", "run_id", "schedule", "version"]);
    expect(items[0]).toMatchObject({ schedule: "ls2", version: 1, owner: "", item: { type: "output" } });
  });

  it("must-show 3: a failing run's error and output are in schedules logs and in schedules list", async () => {
    const { g, tree } = setup();
    const fail = tree("fail", { name: "nightly", tasks: [{ name: "boom", executor: "command", inputs: { command: "echo partial output; echo disk full >&2; exit 3" } }] });
    await g(["schedules", "add", "--name", "nightly", "--oneshot", "--tree", fail]);
    await g(["schedules", "add", "--name", "lookup", "--oneshot", "--", "tasks", "get", "no-such-task"]);
    await g(["schedules", "add", "--name", "fine", "--oneshot", "--", "executors", "list"]);
    const r = await g(["schedules", "run", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1); // a run failed
    expect(lines(r.stdout).map((s) => [s.schedule, s.success]).sort()).toEqual([
      ["fine", true],
      ["lookup", false],
      ["nightly", false],
    ]);

    const nightly = JSON.parse((await g(["schedules", "logs", "nightly", "--json"])).stdout)[0];
    expect(nightly.status).toBe("failed");
    expect(nightly.error).toMatchObject({ type: "tree_failed", message: expect.stringMatching(/task "boom" failed: exit_code: command exited with code 3: disk full/) });
    const messages = nightly.items.filter((i: any) => i.item.type === "event").map((i: any) => i.item.event.data.message);
    expect(messages).toEqual(expect.arrayContaining(["partial output", "disk full"]));
    expect(nightly.items.at(-1).item).toEqual({ type: "error", error: nightly.error });

    const lookup = JSON.parse((await g(["schedules", "logs", "lookup", "--json"])).stdout)[0];
    expect(lookup).toMatchObject({ status: "failed", error: { type: "exit_code", message: "no task no-such-task", details: { exit_code: 1 } } });
    expect(lookup.items.map((i: any) => i.item)).toEqual([
      { type: "stderr", text: "grove: no task no-such-task" },
      { type: "error", error: lookup.error },
    ]);
    const text = await g(["schedules", "logs", "lookup"]);
    expect(text.stdout).toMatch(/failed in [\d.]+s at .* — exit_code: no task no-such-task\n {2}! grove: no task no-such-task\n {2}✘ exit_code: no task no-such-task\n$/);

    const list = JSON.parse((await g(["schedules", "list", "--json"])).stdout);
    const by = Object.fromEntries(list.map((s: any) => [s.name, s]));
    expect(by.nightly).toMatchObject({ error_count: 1, last_status: "failed", last_error: nightly.error, run_count: 1 });
    expect(by.lookup).toMatchObject({ error_count: 1, last_error: lookup.error });
    expect(by.fine).toMatchObject({ error_count: 0, last_error: null, last_status: "succeeded" });
    expect((await g(["schedules", "list"])).stdout).toMatch(/lookup .* 1 +1 .* exit_code: no task no-such-task/);
  });

  it("runs in text mode print a readable line per run", async () => {
    const { g } = setup();
    await g(["schedules", "add", "--name", "ok", "--oneshot", "--", "executors", "list"]);
    const r = await g(["schedules", "run"]);
    expect(r.stdout).toMatch(new RegExp(`^✔ ok v1 run [0-9a-f-]{36} succeeded in [\\d.]+s, ${EXECUTOR_COUNT} items\n$`));
  });
});

describe("must-show 2: scope", () => {
  it("a caller lists, reads and fires only its own subtree, matched by path segment; a run acts as the schedule's owner", async () => {
    const { g, dir } = setup();
    const owners = ["acme/team_1", "acme/team_1/bots", "acme/team_10", "acme/teamX1", "acme"];
    for (const owner of owners) {
      const r = await g(["schedules", "add", "--name", "job", "--oneshot", "--", "tasks", "list", "--json"], { GROVE_SCOPE: owner });
      expect(r.code).toBe(0);
    }
    // trees owned by two teams, to see whose identity a fired command had
    const hello = join(ROOT, "examples/hello.json");
    expect((await g(["run", hello, "--as", "acme/team_1"])).code).toBe(0);
    expect((await g(["run", hello, "--as", "acme/team_10"])).code).toBe(0);

    const listed = JSON.parse((await g(["schedules", "list", "--json", "--as", "acme/team_1"])).stdout);
    expect(listed.map((s: any) => s.owner).sort()).toEqual(["acme/team_1", "acme/team_1/bots"]);
    expect(JSON.parse((await g(["schedules", "list", "--json"], { GROVE_SCOPE: "acme/team_1/" })).stdout)).toHaveLength(2);
    expect(JSON.parse((await g(["schedules", "show", "job", "--json", "--as", "acme/team_1"])).stdout).owner).toBe("acme/team_1");
    expect((await g(["schedules", "show", "job", "--as", "acme/team_2"])).code).toBe(1);
    // acme sees five owners of "job": its own wins; acme/team_1's subtree has two
    expect(JSON.parse((await g(["schedules", "show", "job", "--json", "--as", "acme"])).stdout).owner).toBe("acme");

    const fired = lines((await g(["schedules", "run", "--json", "--as", "acme/team_1"])).stdout);
    expect(fired.map((s) => s.owner).sort()).toEqual(["acme/team_1", "acme/team_1/bots"]);
    expect(fired.every((s) => s.success)).toBe(true);
    const after = JSON.parse((await g(["schedules", "list", "--json"])).stdout);
    expect(Object.fromEntries(after.map((s: any) => [s.owner, s.run_count]))).toEqual({ acme: 0, "acme/team_1": 1, "acme/team_1/bots": 1, "acme/team_10": 0, "acme/teamX1": 0 });

    // logs of another team's schedule are not readable
    expect((await g(["schedules", "logs", "job", "--as", "acme/team_10"])).stdout).toMatch(/has no runs/);
    const mine = JSON.parse((await g(["schedules", "logs", "job", "--json", "--as", "acme/team_1"])).stdout);
    expect(mine).toHaveLength(1);
    // the fired `tasks list` ran as acme/team_1: it saw team_1's tasks only
    const seen = mine[0].items[0].item.value as { owner: string }[];
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((t) => t.owner))).toEqual(new Set(["acme/team_1"]));

    // a root caller firing team_10's schedule: the command still runs as acme/team_10, not as the caller
    const root = lines((await g(["schedules", "run", "--json"])).stdout);
    expect(root.map((s) => s.owner).sort()).toEqual(["acme", "acme/team_10", "acme/teamX1"].sort());
    const t10 = JSON.parse((await g(["schedules", "logs", "job", "--json", "--as", "acme/team_10"])).stdout)[0];
    expect(new Set((t10.items[0].item.value as { owner: string }[]).map((t) => t.owner))).toEqual(new Set(["acme/team_10"]));
    const teamX1 = JSON.parse((await g(["schedules", "logs", "job", "--json", "--as", "acme/teamX1"])).stdout)[0];
    expect(teamX1.items[0].item.value).toEqual([]);
    expect(dir).toBeTruthy();
  });
});

describe("retention", () => {
  it("prune --older-than deletes old finished runs and their items, in the caller's scope", async () => {
    const { g, db } = setup();
    await g(["schedules", "add", "--name", "a", "--oneshot", "--", "executors", "list"], { GROVE_SCOPE: "ops" });
    await g(["schedules", "add", "--name", "b", "--oneshot", "--", "executors", "list"], { GROVE_SCOPE: "dev" });
    expect((await g(["schedules", "run"])).code).toBe(0);
    const bad = await g(["schedules", "prune", "--older-than", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--older-than soon: expected a duration/);
    expect((await g(["schedules", "prune"])).code).toBe(2);
    // nothing is 30 days old yet
    expect(JSON.parse((await g(["schedules", "prune", "--older-than", "30d", "--json"])).stdout)).toMatchObject({ runs: 0, items: 0 });
    // age the runs by 40 days
    const store = new SqliteStore({ path: db });
    store.db.prepare("UPDATE schedule_runs SET started_at = started_at - 3456000000, finished_at = finished_at - 3456000000").run();
    await store.close();
    expect(JSON.parse((await g(["schedules", "prune", "--older-than", "30d", "--json", "--as", "ops"])).stdout)).toMatchObject({ runs: 1, items: EXECUTOR_COUNT });
    expect(JSON.parse((await g(["schedules", "logs", "a", "--json", "--as", "ops"])).stdout)).toEqual([]);
    expect(JSON.parse((await g(["schedules", "logs", "b", "--json", "--as", "dev"])).stdout)).toHaveLength(1);
    expect((await g(["schedules", "prune", "--older-than", "30d"])).stdout).toMatch(new RegExp(`^pruned 1 run and ${EXECUTOR_COUNT} items finished before `));
  });
});

describe("the caller going away", () => {
  it("targets keep running and every item is stored when the reader closes stdout early", async () => {
    const { g, tree, db } = setup();
    const chatty = tree("chatty", { name: "chatty", tasks: [{ name: "talk", executor: "command", inputs: { command: "for i in $(seq 1 300); do echo line $i; done; sleep 0.3; echo last" } }] });
    for (let i = 0; i < 6; i++) await g(["schedules", "add", "--name", `c${i}`, "--oneshot", "--tree", chatty]);
    const child = spawn(process.execPath, [CLI, "schedules", "run", "--stream-all", "--json", "--db", db], { env: { ...process.env, GROVE_DEBUG: "" } });
    let received = 0;
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    await new Promise<void>((resolve) => {
      child.stdout.once("data", (d: Buffer) => {
        received = d.length;
        child.stdout.destroy(); // the reader is gone
        resolve();
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(received).toBeGreaterThan(0);
    const list = JSON.parse((await g(["schedules", "list", "--json"])).stdout);
    expect(list.map((s: any) => [s.run_count, s.last_status])).toEqual(Array.from({ length: 6 }, () => [1, "succeeded"]));
    let stored = 0;
    for (let i = 0; i < 6; i++) {
      const [run] = JSON.parse((await g(["schedules", "logs", `c${i}`, "--json"])).stdout);
      const said = run.items.filter((x: any) => x.item.type === "event" && x.item.event.type === "task.log").map((x: any) => x.item.event.data.message);
      expect(said).toEqual([...Array.from({ length: 300 }, (_, k) => `line ${k + 1}`), "last"]);
      expect(run.items.at(-1).item).toMatchObject({ type: "result", value: { status: "completed" } });
      stored += JSON.stringify(run.items).length;
    }
    // the reader really left before the end
    expect(received).toBeLessThan(stored);
  });
});
