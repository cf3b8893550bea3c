import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { grove, tempDir } from "../helpers/cli.js";

async function failingTree() {
  const dir = tempDir();
  const db = join(dir, "g.db");
  const flag = join(dir, "flag");
  const file = join(dir, "t.json");
  // `check` fails until the flag file exists: retry after creating it succeeds.
  writeFileSync(file, JSON.stringify({
    name: "t",
    tasks: [
      { name: "check", executor: "command", inputs: { command: `test -f ${flag} || { echo missing >&2; exit 1; }` } },
      { name: "after", executor: "command", dependencies: ["check"], inputs: { command: "echo after" } },
    ],
  }));
  const run = await grove(["run", file, "--db", db, "--json"]);
  expect(run.code).toBe(1);
  return { db, flag, out: JSON.parse(run.stdout) };
}

describe("grove tasks", () => {
  it("list, get, tree and logs in text and JSON", async () => {
    const { db, out } = await failingTree();
    const treeId = out.tree_id;
    const list = JSON.parse((await grove(["tasks", "list", "--db", db, "--json"])).stdout);
    expect(list).toHaveLength(3);
    for (const t of list) for (const k of ["id", "tree_id", "name", "executor", "status"]) expect(t).toHaveProperty(k);
    const failed = JSON.parse((await grove(["tasks", "list", "--db", db, "--status", "failed", "--json"])).stdout);
    expect(failed.map((t: any) => t.name)).toEqual(["check"]);
    const text = (await grove(["tasks", "list", "--db", db, "--tree", treeId])).stdout;
    expect(text).toMatch(/^ID\s+TREE\s+NAME\s+EXECUTOR\s+STATUS\s+ATTEMPTS/);
    expect(text).toMatch(/after\s+command\s+skipped/);

    const check = failed[0];
    const get = JSON.parse((await grove(["tasks", "get", check.id, "--db", db, "--json"])).stdout);
    expect(get.error).toMatchObject({ type: "exit_code" });
    expect(get.error.message).toContain("missing");
    expect(get.attempt_history).toHaveLength(1);
    expect(get.attempt_history[0]).toMatchObject({ attempt: 1, outcome: "failed" });
    expect(get.attempt_history[0].resolved_inputs.command).toContain("test -f");
    expect((await grove(["tasks", "get", check.id, "--db", db])).stdout).toMatch(/attempt 1: failed/);

    const tree = JSON.parse((await grove(["tasks", "tree", check.id, "--db", db, "--json"])).stdout);
    expect(tree).toMatchObject({ tree_id: treeId, status: "failed" });
    const treeText = (await grove(["tasks", "tree", treeId, "--db", db])).stdout;
    expect(treeText).toMatch(/^t \(.*\) failed\n {2}t \[aggregate\] skipped/);
    expect(treeText).toMatch(/ {4}check \[command\] failed — exit_code: command exited with code 1: missing/);

    const logs = JSON.parse((await grove(["tasks", "logs", treeId, "--db", db, "--json"])).stdout);
    const types = logs.map((e: any) => e.type);
    expect(types).toContain("task.started");
    expect(types).toContain("task.failed");
    expect(types[types.length - 1]).toBe("tree.failed");
    const taskLogs = JSON.parse((await grove(["tasks", "logs", check.id, "--db", db, "--json"])).stdout);
    expect(taskLogs.every((e: any) => e.task_id === check.id)).toBe(true);
    expect(taskLogs.some((e: any) => e.type === "task.log" && e.data.message === "missing")).toBe(true);
  });

  it("retry starts a failed task over with the dependents it skipped, and runs the tree", async () => {
    const { db, flag, out } = await failingTree();
    writeFileSync(flag, "");
    const check = out.tasks.find((t: any) => t.name === "check");
    const r = await grove(["tasks", "retry", check.id, "--db", db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tree t completed/);
    const tree = JSON.parse((await grove(["tasks", "tree", out.tree_id, "--db", db, "--json"])).stdout);
    const byName = Object.fromEntries(tree.tasks.map((t: any) => [t.name, t]));
    expect(byName.check).toMatchObject({ status: "completed", attempts: 2 });
    expect(byName.after.result.stdout).toBe("after\n");
  });

  it("refuses what the state machine forbids, with one line and exit 1", async () => {
    const dir = tempDir();
    const db = join(dir, "g.db");
    const run = JSON.parse((await grove(["run", "examples/hello.json", "--db", db, "--json"])).stdout);
    const greet = run.tasks.find((t: any) => t.name === "greet");
    const cancel = await grove(["tasks", "cancel", greet.id, "--db", db]);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr.trim()).toBe(`grove: task ${greet.id}: illegal status transition completed → cancelled`);
    const retry = await grove(["tasks", "retry", greet.id, "--db", db]);
    expect(retry.code).toBe(1);
    const missing = await grove(["tasks", "get", "nope", "--db", db]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe("grove: no task nope");
  });

  it("scopes: --as only sees its own subtree", async () => {
    const dir = tempDir();
    const db = join(dir, "g.db");
    await grove(["run", "examples/hello.json", "--db", db, "--as", "acme/team_1"]);
    await grove(["run", "examples/hello.json", "--db", db, "--as", "acme/team_10"]);
    const mine = JSON.parse((await grove(["tasks", "list", "--db", db, "--as", "acme/team_1", "--json"])).stdout);
    expect(mine).toHaveLength(4);
    expect(new Set(mine.map((t: any) => t.owner))).toEqual(new Set(["acme/team_1"]));
    const other = JSON.parse((await grove(["tasks", "list", "--db", db, "--as", "acme/team_10", "--json"])).stdout);
    const get = await grove(["tasks", "get", other[0].id, "--db", db, "--as", "acme/team_1"]);
    expect(get.code).toBe(1);
  });
});

describe("grove executors", () => {
  it("lists the built-ins and prints a schema", async () => {
    const list = await grove(["executors", "list"]);
    expect(list.stdout).toMatch(/^aggregate\s/m);
    expect(list.stdout).toMatch(/^command\s/m);
    expect(list.stdout).toMatch(/^http\s/m);
    const schema = JSON.parse((await grove(["executors", "schema", "command"])).stdout);
    expect(schema.id).toBe("command");
    expect(schema.input_schema.required).toContain("command");
    expect(schema.output_schema.properties).toHaveProperty("exit_code");
    const missing = await grove(["executors", "schema", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/executor "nope" is not registered/);
  });

  it("--version prints the package version", async () => {
    const r = await grove(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("grove.config.mjs", () => {
  it("loads the executors it lists from the working directory", async () => {
    const dir = tempDir();
    const module = join(process.cwd(), "examples/greeting-executor.mjs");
    writeFileSync(join(dir, "grove.config.mjs"), `export const executors = [${JSON.stringify(module)}];\n`);
    const list = await grove(["executors", "list", "--json"], { cwd: dir });
    expect(list.stderr).toBe("");
    expect(JSON.parse(list.stdout).map((e: { id: string }) => e.id)).toContain("greeting_executor");
  });

  it("a module that exports no executors is an input error", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "empty.mjs"), "export const x = 1;\n");
    const r = await grove(["executors", "list", "--executors", join(dir, "empty.mjs")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exports no executors/);
  });
});
