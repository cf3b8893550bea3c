// The schedule commands' contracts (src/cli/schedule-contracts.ts): registered in the CLI's table,
// they answer --request-schema / --response-schema, real invocations pass the request validation
// of program.ts, and the JSON each command prints matches its response type. In-process (runCli), like a schedule
// dispatching a command line.
import { Ajv2020 as Ajv } from "ajv/dist/2020.js";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTRACTS } from "../../src/cli/contracts.js";
import { runCli } from "../../src/cli/program.js";
import { SCHEDULE_CONTRACTS } from "../../src/cli/schedule-contracts.js";
import { ROOT, tempDir } from "../helpers/cli.js";

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

describe("schedule command contracts", () => {
  it("every schedule command answers --request-schema and --response-schema with a JSON Schema that compiles", async () => {
    const ajv = new Ajv({ strict: false });
    for (const path of Object.keys(SCHEDULE_CONTRACTS)) {
      expect(CONTRACTS[path]).toBe(SCHEDULE_CONTRACTS[path]);
      for (const kind of ["request", "response"]) {
        const r = await cli([...path.split(" "), `--${kind}-schema`]);
        expect({ path, kind, stderr: r.stderr, code: r.code }).toEqual({ path, kind, stderr: "", code: 0 });
        expect(() => ajv.compile(JSON.parse(r.stdout))).not.toThrow();
      }
    }
  });

  it("the JSON each command prints matches its response type", async () => {
    const db = join(tempDir("grove-contract-"), "g.db");
    const check = async (path: string, args: string[], lines = false) => {
      const end = args.includes("--") ? args.indexOf("--") : args.length;
      const r = await cli([...path.split(" "), ...args.slice(0, end), "--db", db, "--json", ...args.slice(end)]);
      expect({ path, stderr: r.stderr }).toEqual({ path, stderr: "" });
      const items = lines ? r.stdout.trim().split("\n").map((l) => JSON.parse(l)) : [JSON.parse(r.stdout)];
      for (const item of items) {
        const parsed = SCHEDULE_CONTRACTS[path]!.response.safeParse(item);
        expect(parsed.success ? null : parsed.error.issues, path).toBeNull();
      }
      return items;
    };
    await check("schedules add", ["--name", "ls", "--oneshot", "--", "executors", "list", "--json"]);
    await check("schedules add", ["--name", "hello", "--oneshot", "--tree", join(ROOT, "examples/hello.json")]);
    await check("schedules add", ["--name", "fail", "--oneshot", "--", "tasks", "get", "nope"]);
    await check("schedules add", ["--name", "cron", "--cron", "0 9 * * *", "--tz", "UTC", "--max-runs", "2", "--", "executors", "list"]);
    await check("schedules list", []);
    await check("schedules run", [], true);
    await check("schedules add", ["--name", "again", "--oneshot", "--", "executors", "list"]);
    await check("schedules run", ["--stream-all"], true);
    await check("schedules show", ["hello"]);
    await check("schedules logs", ["hello"]);
    await check("schedules logs", ["fail"]);
    await check("schedules disable", ["cron"]);
    await check("schedules enable", ["cron"]);
    await check("schedules delete", ["cron"]);
    await check("schedules prune", ["--older-than", "30d"]);
  }, 60_000);
});
