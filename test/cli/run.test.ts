import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { groupAlive, grove, groveBackground, runProcess, tempDir } from "../helpers/cli.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("grove run (DESIGN §10)", () => {
  it("runs a tree, prints plain lines when not a TTY, exits 0", async () => {
    const db = join(tempDir(), "g.db");
    const r = await grove(["run", "examples/hello.json", "--db", db]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/started {4}greet/);
    expect(r.stdout).toMatch(/greet> Hello, world!/);
    expect(r.stdout).toMatch(/tree hello completed/);
  });

  it("--json prints the final tree with the documented fields", async () => {
    const db = join(tempDir(), "g.db");
    const r = await grove(["run", "examples/hello.json", "--db", db, "--json", "--input", "who=grove"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: "completed", name: "hello" });
    expect(out.tree_id).toMatch(/^[0-9a-f-]{36}$/);
    const greet = out.tasks.find((t: any) => t.name === "greet");
    for (const k of ["id", "name", "executor", "status", "result", "error", "attempts", "started_at", "finished_at"]) expect(greet).toHaveProperty(k);
    expect(greet.result.stdout).toBe("Hello, grove!\n");
  });

  it("exits 1 when the tree fails, naming the failing task", async () => {
    const dir = tempDir();
    const file = join(dir, "fail.json");
    writeFileSync(file, JSON.stringify({ name: "f", tasks: [{ name: "boom", executor: "command", inputs: { command: "echo oops >&2; exit 3" } }] }));
    const r = await grove(["run", file, "--db", join(dir, "g.db")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✘ boom: exit_code: command exited with code 3: oops/);
  });

  it("draws a live tree on a terminal", async () => {
    const dir = tempDir();
    const cmd = `node ${join(process.cwd(), "dist/cli/main.cjs")} run examples/hello.json --db ${join(dir, "g.db")}`;
    const r = await runProcess("script", ["-qec", cmd, "/dev/null"], { env: { ...process.env, COLUMNS: "100", LINES: "30" } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("\x1b[2K"); // lines redrawn in place
    expect(r.stdout).toMatch(/greet\s+completed/);
    expect(r.stdout).toMatch(/4 completed/);
  });
});

describe("bad input never half-writes (exit 2, one line naming the culprit)", () => {
  const cases: [string, string, RegExp][] = [
    ["malformed JSON", '{"name": "x", "tasks": [ {"name": "a",, } ] }', /bad\.json: invalid JSON at line 1 column \d+/],
    ["unknown executor", JSON.stringify({ tasks: [{ name: "a", executor: "nope" }] }), /task "a": executor "nope" is not registered/],
    ["cycle", JSON.stringify({ tasks: [{ name: "a", executor: "command", inputs: { command: "true" }, dependencies: ["b"] }, { name: "b", executor: "command", inputs: { command: "true" }, dependencies: ["a"] }] }), /cycle: (a → b → a|b → a → b)/],
    ["duplicate names", JSON.stringify({ tasks: [{ name: "a", executor: "command", inputs: { command: "true" } }, { name: "a", executor: "command", inputs: { command: "true" } }] }), /duplicate task name "a"/],
    ["schema violation", JSON.stringify({ tasks: [{ name: "fetch", executor: "http", inputs: { method: "GET" } }] }), /task "fetch": inputs\.url is required/],
    ["wrong type", JSON.stringify({ tasks: [{ name: "c", executor: "command", inputs: { command: 42 } }] }), /task "c": inputs\.command must be string/],
  ];
  for (const [label, text, message] of cases) {
    it(label, async () => {
      const dir = tempDir();
      const file = join(dir, "bad.json");
      writeFileSync(file, text);
      const db = join(dir, "g.db");
      const r = await grove(["run", file, "--db", db]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
      const list = await grove(["tasks", "list", "--db", db, "--json"]);
      expect(JSON.parse(list.stdout)).toEqual([]);
    });
  }

  it("a missing file and a bad flag are input errors too", async () => {
    const r = await grove(["run", "no-such-tree.json", "--db", join(tempDir(), "g.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("grove: no-such-tree.json: no such file");
    const flag = await grove(["run", "examples/hello.json", "--concurrency", "zero"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--concurrency must be a positive integer/);
  });
});

describe("timeouts and cancellation across processes", () => {
  it("a task that sleeps 30 s with timeout_ms 500 ends in under 3 s and leaves no process behind", async () => {
    const dir = tempDir();
    const pidFile = join(dir, "pgid");
    const file = join(dir, "slow.json");
    writeFileSync(file, JSON.stringify({ name: "slow", tasks: [{ name: "nap", executor: "command", timeout_ms: 500, inputs: { command: `echo $$ > ${pidFile}; sleep 30 & sleep 30; wait` } }] }));
    const r = await grove(["run", file, "--db", join(dir, "g.db"), "--json"]);
    expect(r.ms).toBeLessThan(3000);
    expect(r.code).toBe(1);
    const nap = JSON.parse(r.stdout).tasks.find((t: any) => t.name === "nap");
    expect(nap.error.type).toBe("timeout");
    const pgid = Number(readFileSync(pidFile, "utf8"));
    expect(groupAlive(pgid)).toBe(false);
  });

  it("grove tasks cancel TREE_ID from another process stops a running tree within 1 s", async () => {
    const dir = tempDir();
    const db = join(dir, "g.db");
    const pidFile = join(dir, "pgid");
    const file = join(dir, "long.json");
    writeFileSync(file, JSON.stringify({ name: "long", tasks: [{ name: "nap", executor: "command", inputs: { command: `echo $$ > ${pidFile}; sleep 30` } }, { name: "next", executor: "command", dependencies: ["nap"], inputs: { command: "true" } }] }));
    const run = groveBackground(["run", file, "--db", db]);
    await run.waitFor(/started {4}nap/);
    const list = JSON.parse((await grove(["tasks", "list", "--db", db, "--json"])).stdout);
    const treeId = list[0].tree_id;
    await sleep(200);
    const pgid = Number(readFileSync(pidFile, "utf8"));
    expect(groupAlive(pgid)).toBe(true);
    const cancel = await grove(["tasks", "cancel", treeId, "--db", db]);
    const t0 = Date.now();
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(/cancelled 3 tasks/);
    while (groupAlive(pgid) && Date.now() - t0 < 3000) await sleep(20);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await run.exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(1500);
    const tree = JSON.parse((await grove(["tasks", "tree", treeId, "--db", db, "--json"])).stdout);
    expect(tree.status).toBe("cancelled");
  });
});

describe("crash and resume", () => {
  it("after SIGKILL of grove run, --resume does not rerun completed tasks and retries the interrupted one after its lease", async () => {
    const dir = tempDir();
    const db = join(dir, "g.db");
    const log = join(dir, "log");
    const pidFile = join(dir, "pgid");
    const file = join(dir, "crash.json");
    writeFileSync(
      file,
      JSON.stringify({
        name: "crash",
        tasks: [
          { name: "first", executor: "command", inputs: { command: `echo first >> ${log}` } },
          { name: "slow", executor: "command", dependencies: ["first"], inputs: { command: `echo $$ > ${pidFile}; sleep 2; echo slow >> ${log}` } },
          { name: "last", executor: "command", dependencies: ["slow"], inputs: { command: `echo last >> ${log}` } },
        ],
      }),
    );
    const env = { GROVE_LEASE_MS: "1500" };
    const run = groveBackground(["run", file, "--db", db], { env });
    await run.waitFor(/started {4}slow/);
    await sleep(100);
    run.child.kill("SIGKILL");
    await run.exited;
    // The machine died with it: its command is gone too.
    process.kill(-Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    const treeId = JSON.parse((await grove(["tasks", "list", "--db", db, "--json"])).stdout)[0].tree_id;
    const resumed = await grove(["run", "--resume", treeId, "--db", db, "--json"], { env });
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.stdout);
    expect(out.status).toBe("completed");
    const byName = Object.fromEntries(out.tasks.map((t: any) => [t.name, t]));
    expect(byName.first.attempts).toBe(1);
    expect(byName.slow.attempts).toBe(2);
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["first", "slow", "last"]);
    const slow = JSON.parse((await grove(["tasks", "get", byName.slow.id, "--db", db, "--json"])).stdout);
    expect(slow.attempt_history.map((a: any) => a.outcome)).toEqual(["lease_expired", "completed"]);
  });
});
