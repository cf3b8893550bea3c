// Every command and snippet of README.md and docs/*.md is run here, so the docs cannot drift
// from what the CLI and the SDK do.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ExecutorRegistry } from "../src/core/registry.js";
import { registerBuiltins } from "../src/executors/index.js";
import { loadTree } from "../src/tree/index.js";
import { CLI, ROOT, runProcess, tempDir } from "./helpers/cli.js";

interface Block {
  file: string;
  lang: string;
  code: string;
  index: number;
}

function blocks(file: string): Block[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const out: Block[] = [];
  const re = /```(\w*)\n([\s\S]*?)```/g;
  let m: RegExpExecArray | null;
  let i = 0;
  while ((m = re.exec(text))) out.push({ file, lang: m[1]!, code: m[2]!, index: i++ });
  return out;
}

const docs = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const all = docs.flatMap(blocks);
const scratch = join(ROOT, "test/.tmp");
mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function shell(code: string, db: string) {
  const script = `set -euo pipefail\ngrove() { node ${JSON.stringify(CLI)} "$@"; }\n${code}`;
  return runProcess("bash", ["-c", script], { cwd: ROOT, env: { ...process.env, GROVE_DATABASE_URL: db, GROVE_DEBUG: "" } });
}

describe("README set-up commands", () => {
  it("the first command runs the example tree on the default SQLite store", async () => {
    const setup = all.find((b) => b.file === "README.md" && b.code.includes("npm ci"))!;
    expect(setup.code.trim()).toBe("npm ci && npm run grove -- run examples/hello.json");
    // `npm ci` already ran to get here; the rest of the line is run as written, in a fresh
    // directory so that the default `.grove/grove.db` is really created.
    const dir = tempDir();
    execFileSync("cp", ["-r", join(ROOT, "examples"), join(ROOT, "package.json"), dir]);
    execFileSync("ln", ["-s", join(ROOT, "dist"), join(dir, "dist")]);
    execFileSync("ln", ["-s", join(ROOT, "node_modules"), join(dir, "node_modules")]);
    const r = await runProcess("bash", ["-c", "npm run grove -- run examples/hello.json"], { cwd: dir, env: { ...process.env, GROVE_DATABASE_URL: "" } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/greet> Hello, world!/);
    expect(r.stdout).toMatch(/tree hello completed/);
    expect(readdirSync(join(dir, ".grove"))).toContain("grove.db");
  });

  it("the second command is the test command", () => {
    expect(all.some((b) => b.file === "README.md" && b.code.trim() === "npm test")).toBe(true);
    expect(readFileSync(join(ROOT, ".ci/run"), "utf8")).toMatch(/^npm test$/m);
  });
});

describe("doc snippets", () => {
  for (const b of all) {
    const label = `${b.file} block ${b.index} (${b.lang || "text"})`;
    if (b.lang === "sh" && /npm run (-s )?bench/.test(b.code)) {
      it(`${label}: each benchmark command runs (smoke size) and prints the documented JSON lines`, async () => {
        for (const line of b.code.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean)) {
          // `npm run bench` = build + node bench/run.mjs; the build is done, so run the script at a
          // smoke size (the full run takes minutes and belongs to `npm run bench`, not npm test).
          const args = line.replace(/^npm run (-s )?bench -- /, "").split(/\s+/);
          const SMOKE: Record<string, string[]> = {
            "drain-sqlite": ["--runs", "1", "--tasks", "300"],
            "cli-startup": ["--runs", "2", "--warmup", "0"],
            "drain-pg": ["--runs", "1", "--tasks", "300"],
            "latency-pg": ["--runs", "1", "--tasks", "20", "--warmup", "2", "--pgboss-tasks", "3"],
            "scheduler-latency": ["--runs", "1", "--schedules", "50", "--spread-ms", "3000", "--lead-ms", "3000"],
            "schedules-claim": ["--runs", "1", "--schedules", "2000", "--due", "50"],
            api: ["--connections", "10", "--duration", "1"],
            "policy-check": ["--runs", "1", "--decisions", "200"],
            "agent-step": ["--runs", "1", "--steps", "5"],
            dashboard: ["--smoke"],
          };
          const smoke = SMOKE[args[0]!] ?? [];
          const r = await runProcess(process.execPath, ["bench/run.mjs", ...args, ...smoke]);
          expect(r.status, r.stderr).toBe(0);
          if (args.includes("--profile")) {
            expect(r.stderr).toMatch(/profile/i);
            continue;
          }
          const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
          expect(rows.length).toBeGreaterThan(0);
          for (const row of rows) for (const k of ["bench", "system", "metric", "median", "unit", "runs"]) expect(row).toHaveProperty(k);
        }
      }, 300_000);
    } else if (b.lang === "sh" && !b.code.includes("npm ci") && b.code.trim() !== "npm test") {
      it(`${label} runs`, async () => {
        const r = await shell(b.code, join(tempDir(), "g.db"));
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
      });
    }
    if (b.lang === "json" && /"tasks"|^\s*\[/.test(b.code)) {
      it(`${label} is a valid tree`, () => {
        const registry = new ExecutorRegistry();
        registerBuiltins(registry);
        expect(() => loadTree(JSON.parse(b.code), { registry, owner: "", defaultName: "doc" })).not.toThrow();
      });
    }
    if (b.lang === "js") {
      it(`${label} runs`, async () => {
        const file = join(scratch, `snippet-${b.file.replace(/\W/g, "_")}-${b.index}.mjs`);
        writeFileSync(file, b.code);
        const r = await runProcess(process.execPath, [file]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        if (b.code.includes("console.log")) expect(r.stdout.trim().length).toBeGreaterThan(0);
      });
    }
  }

  it("the README's hello tree is examples/hello.json", () => {
    const hello = all.find((b) => b.file === "README.md" && b.lang === "json" && b.code.includes('"hello"'))!;
    expect(JSON.parse(hello.code)).toEqual(JSON.parse(readFileSync(join(ROOT, "examples/hello.json"), "utf8")));
  });

  it("the README's From-code snippet prints the greeting", async () => {
    const code = all.find((b) => b.file === "README.md" && b.lang === "js" && b.code.includes("Grove.local"))!;
    const file = join(scratch, "from-code.mjs");
    writeFileSync(file, code.code);
    const r = await runProcess(process.execPath, [file]);
    expect(r.stdout.trim()).toBe("completed Hello, Ada!");
  });
});
