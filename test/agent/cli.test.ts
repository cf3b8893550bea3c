// `grove agent run` end to end: the built CLI as a real process, GROVE_MODEL pointing at the fake
// model server; --json events checked against the command's response contract.
import { Ajv2020 } from "ajv/dist/2020.js";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { grove } from "../helpers/cli.js";
import { answer, fakeModel, lastResult, run, steps, workspace } from "./helpers.js";

describe("grove agent run", () => {
  it("--json prints one event per line, matching --response-schema, and exits 0", async () => {
    const dir = workspace({ "svc.txt": "up\n" });
    writeFileSync(join(dir, "schema.json"), JSON.stringify({ type: "object", properties: { status: { type: "string" } }, required: ["status"] }));
    const { fake } = await fakeModel(steps(run("cat svc.txt"), (req) => answer({ status: lastResult(req).stdout.trim() })));
    const env = { GROVE_MODEL: "openai-compatible:fake", GROVE_OPENAI_COMPATIBLE_BASE_URL: fake.url };
    const r = await grove(["agent", "run", "is the service up?", "--output-schema", `@${join(dir, "schema.json")}`, "--context", '{"service":"svc"}', "--cwd", dir, "--json"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual(["tool_call", "output", "tool_result", "tool_call", "tool_result", "result"]);
    expect(events.at(-1).output).toEqual({ status: "up" });
    const schema = await grove(["agent", "run", "--response-schema"]);
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(schema.stdout));
    for (const e of events) expect(validate(e) ? null : validate.errors).toBeNull();
    expect(fake.requests[0]!.messages[1].content).toContain('"service": "svc"');
  });

  it("prints readable lines by default; restrictions and a timeout are honoured; a failed run exits 1", async () => {
    const dir = workspace({});
    const { fake } = await fakeModel(steps(run("sudo touch x"), run("echo $$ > pgid; sleep 30")));
    const env = { GROVE_MODEL: "openai-compatible:fake", GROVE_OPENAI_COMPATIBLE_BASE_URL: fake.url };
    const r = await grove(["agent", "run", "do it", "--restrictions", '{"no_sudo":true}', "--timeout", "6s", "--cwd", dir], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("$ sudo touch x");
    expect(r.stdout).toMatch(/\[denied\] denied: no_sudo/);
    expect(r.stdout).toMatch(/failed \(timeout\): the run timed out after 6000 ms/);
    expect(existsSync(join(dir, "x"))).toBe(false);
    expect(readFileSync(join(dir, "pgid"), "utf8")).toMatch(/^\d+/);
  });

  it("dry run: the plan is printed, nothing is changed", async () => {
    const dir = workspace({ "f.txt": "keep\n" });
    const { fake } = await fakeModel(steps(run("rm f.txt"), answer({ success: true, summary: "planned" })));
    const env = { GROVE_MODEL: "openai-compatible:fake", GROVE_OPENAI_COMPATIBLE_BASE_URL: fake.url };
    const r = await grove(["agent", "run", "clean up", "--restrictions", '{"dry_run":true}', "--cwd", dir], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("planned actions (not executed):\n  - rm f.txt");
    expect(existsSync(join(dir, "f.txt"))).toBe(true);
  });

  it("without a model: one line naming GROVE_MODEL, exit 2", async () => {
    const r = await grove(["agent", "run", "hello"], { env: { GROVE_MODEL: "" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^grove: no model configured: set GROVE_MODEL=openai:gpt-4\.1/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("bad flags are input errors (exit 2)", async () => {
    const bad = await grove(["agent", "run", "x", "--approval", "sometimes"], { env: { GROVE_MODEL: "openai:gpt-4.1" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^grove: --approval: /);
    const badJson = await grove(["agent", "run", "x", "--restrictions", "{nope"], { env: { GROVE_MODEL: "openai:gpt-4.1" } });
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/^grove: --restrictions: not JSON/);
    const badField = await grove(["agent", "run", "x", "--restrictions", '{"no_sudo":"yes"}', "--model", "openai-compatible:m"], { env: { GROVE_OPENAI_COMPATIBLE_BASE_URL: "http://127.0.0.1:9/v1" } });
    expect(badField.code).toBe(2);
    expect(badField.stderr).toMatch(/^grove: restrictions\.no_sudo: /);
  });
});
