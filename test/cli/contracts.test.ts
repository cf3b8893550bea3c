import { Ajv2020 as Ajv } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTRACTS } from "../../src/cli/contracts.js";
import { runCli } from "../../src/cli/program.js";
import { grove, tempDir } from "../helpers/cli.js";

/** The CLI in-process (runCli, as a schedule dispatches a command line): no process per call. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

const ajv = new Ajv({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv) => void)(ajv);

async function schemaOf(path: string, kind: "request" | "response") {
  const r = await cli([...path.split(" "), `--${kind}-schema`]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe("--request-schema / --response-schema", () => {
  it("every command answers both with a JSON Schema that compiles", async () => {
    for (const path of Object.keys(CONTRACTS)) {
      for (const kind of ["request", "response"] as const) {
        const schema = await schemaOf(path, kind);
        expect(() => ajv.compile(schema), `${path} ${kind}`).not.toThrow();
      }
    }
  }, 120_000);

  it("the JSON each command prints matches its response schema", async () => {
    const dir = tempDir();
    const db = join(dir, "g.db");
    const check = async (path: string, args: string[], lines = false) => {
      const validate = ajv.compile(await schemaOf(path, "response"));
      const r = await cli([...path.split(" "), ...args, "--db", db, "--json"]);
      const items = lines ? r.stdout.trim().split("\n").map((l) => JSON.parse(l)) : [JSON.parse(r.stdout)];
      for (const item of items) expect(validate(item) ? null : validate.errors, `${path}`).toBeNull();
      return items[0];
    };
    const run = await check("run", ["examples/hello.json"]);
    const list = await check("tasks list", []);
    await check("tasks get", [list[0].id]);
    await check("tasks tree", [run.tree_id]);
    await check("tasks logs", [run.tree_id]);
    await check("tasks watch", [run.tree_id], true);
    await check("executors list", []);
    await check("executors schema", ["http"]);
    const detached = await check("run", ["examples/hello.json", "--detach"]);
    await check("tasks cancel", [detached.tree_id]);
    // approvals: a run that stops for one (exit 3), the list, a decision each way
    const gateTree = join(dir, "gate.json");
    writeFileSync(gateTree, JSON.stringify({ tasks: [{ name: "a", executor: "gate", inputs: { command: "deploy" } }, { name: "b", executor: "gate", inputs: { command: "drop" } }] }));
    const fixture = ["--executors", "test/fixtures/executors/approval.mjs"];
    const paused = await check("run", [gateTree, ...fixture]);
    expect(paused.approvals).toHaveLength(2);
    const approvals = await check("tasks approvals", fixture);
    expect(approvals).toHaveLength(2);
    await check("tasks approve", [approvals[0].task_id, "--reason", "ok", ...fixture]);
    await check("tasks reject", [approvals[1].task_id, ...fixture]);
  }, 120_000);

  it("flags are validated against the request contract before the command runs", async () => {
    const r = await grove(["tasks", "list", "--status", "nope", "--db", join(tempDir(), "g.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^grove: --status: /);
  });
});

describe("--jq", () => {
  it("applies the filter to each item and drops nulls", async () => {
    const db = join(tempDir(), "g.db");
    await grove(["run", "examples/hello.json", "--db", db]);
    const names = await grove(["tasks", "list", "--db", db, "--json", "--jq", 'if .executor == "command" then .name else null end']);
    expect(names.stdout.trim().split("\n").map((l) => JSON.parse(l)).sort()).toEqual(["greet", "kernel"]);
    const one = await grove(["run", "examples/hello.json", "--db", db, "--json", "--jq", ".status"]);
    expect(one.stdout).toBe('"completed"\n');
  });

  it("a bad filter, or --jq without --json, is an input error", async () => {
    const db = join(tempDir(), "g.db");
    const bad = await grove(["tasks", "list", "--db", db, "--json", "--jq", ".[["]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^grove: --jq \.\[\[: syntax error/);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    const noJson = await grove(["tasks", "list", "--db", db, "--jq", ".name"]);
    expect(noJson.code).toBe(2);
    expect(noJson.stderr.trim()).toBe("grove: --jq needs --json");
  });
});
