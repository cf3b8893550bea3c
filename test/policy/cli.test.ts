// `grove policy check` (DESIGN §10): one command or --batch JSON lines; exit 0 whenever the check
// ran, 2 for bad input. Runs the built CLI (npm test builds first).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PolicyDecisionJson } from "../../src/agent/policy/index.js";
import { CONTRACTS } from "../../src/cli/contracts.js";
import { POLICY_CONTRACTS } from "../../src/cli/policy-contracts.js";
import { runCli } from "../../src/cli/program.js";
import { grove, tempDir } from "../helpers/cli.js";

const check = (args: string[], input?: string) => grove(["policy", "check", ...args], { input });
const R = (r: object) => ["--restrictions", JSON.stringify(r)];

describe("grove policy check", () => {
  it("prints the decision and its reasons on one line, exit 0 whatever the decision", async () => {
    const deny = await check([...R({ no_sudo: true, no_delete: true }), "--", "ls; sudo rm -rf /tmp/x"]);
    expect(deny).toMatchObject({ code: 0, stderr: "", stdout: 'deny: no_sudo: "sudo" at 1:5; no_delete: "rm" at 1:10 via sudo\n' });
    const allow = await check([...R({ no_sudo: true }), "--", "ls", "-la"]);
    expect(allow).toMatchObject({ code: 0, stdout: "allow\n" });
    const simulate = await check([...R({ dry_run: true }), "--", "rm", "x"]);
    expect(simulate.stdout).toBe('simulate: dry_run: "rm" writes x at 1:1\n');
    const ask = await check([...R({ require_approval: ["systemctl restart"] }), "--", "systemctl restart nginx"]);
    expect(ask.stdout).toBe('ask: require_approval: "systemctl restart" matches "systemctl restart nginx" at 1:1\n');
  });

  it("joins the words after -- with spaces", async () => {
    const r = await check([...R({ forbidden_commands: ["rm -rf /"] }), "--json", "--", "rm", "-fr", "/"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: "deny", commands: [{ name: "rm", args: ["-fr", "/"], text: "rm -fr /" }] });
  });

  it("--json prints {decision, reasons, commands}; --jq filters it", async () => {
    const r = await check([...R({ no_sudo: true }), "--json", "--", "env FOO=1 sudo ls"]);
    const out = PolicyDecisionJson.parse(JSON.parse(r.stdout));
    expect(out).toEqual({
      decision: "deny",
      reasons: ['no_sudo: "sudo" at 1:11 via env'],
      commands: [
        { name: "env", args: ["FOO=1", "sudo", "ls"], at: "1:1", text: "env FOO=1 sudo ls" },
        { name: "sudo", args: ["ls"], at: "1:11", text: "sudo ls", via: ["env"] },
        { name: "ls", args: [], at: "1:16", text: "ls", via: ["env", "sudo"] },
      ],
    });
    const jq = await check(["--json", "--jq", ".decision", "--", "ls"]);
    expect(jq.stdout).toBe('"allow"\n');
  });

  it("--cwd is where relative paths and cd start", async () => {
    const r = await check([...R({ allowed_dirs: ["/tmp"] }), "--cwd", "/etc", "--", "cat passwd"]);
    expect(r.stdout).toBe('deny: allowed_dirs: "cat" reads /etc/passwd at 1:5 (outside allowed_dirs and read_only_dirs)\n');
  });

  it("--restrictions @FILE reads the JSON from a file", async () => {
    const file = join(tempDir(), "r.json");
    writeFileSync(file, JSON.stringify({ no_delete: true }));
    expect((await check(["--restrictions", `@${file}`, "--", "rm x"])).stdout).toBe('deny: no_delete: "rm" at 1:1\n');
  });

  it("bad restrictions are exit 2 with one line naming the field", async () => {
    const cases: [string[], RegExp][] = [
      [["--restrictions", "{nope", "--", "ls"], /^grove: --restrictions: not JSON: /],
      [[...R({ no_sudo: "yes" }), "--", "ls"], /^grove: --restrictions: no_sudo: .*expected boolean/],
      [[...R({ allowed_dirs: ["/a", 3] }), "--", "ls"], /^grove: --restrictions: allowed_dirs\[1\]: /],
      [[...R({ nosudo: true }), "--", "ls"], /^grove: --restrictions: .*nosudo/],
      [[...R({ forbidden_commands: [{ command: "rm -rf /", match: ["rm x"] }] }), "--", "ls"], /^grove: --restrictions: forbidden_commands\[0\]\.match\[0\]: "rm -rf \/" does not match its example "rm x"$/],
      [["--restrictions", "@/nonexistent/r.json", "--", "ls"], /^grove: --restrictions: cannot read \/nonexistent\/r.json: ENOENT/],
      [[], /^grove: give the command to check after --/],
      [["--batch", "--", "ls"], /^grove: --batch reads the commands from stdin/],
    ];
    for (const [args, message] of cases) {
      const r = await check(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
    }
  });

  it("--batch: one decision line per input line, in order; a bad line gets an error line", async () => {
    const lines = [
      { command: "rm x", restrictions: { no_delete: true } },
      { command: "ls -la" },
      "not json",
      { command: "cat passwd", cwd: "/etc", restrictions: { allowed_dirs: ["/tmp"] } },
      { command: "ls", restrictions: { no_sudo: 3 } },
      { cmd: "ls" },
      { command: "sudo ls" },
    ];
    const input = `${lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")}\n\n`;
    const r = await check([...R({ no_sudo: true }), "--batch"], input);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(out).toHaveLength(7);
    expect(out[0]).toMatchObject({ decision: "deny", reasons: ['no_delete: "rm" at 1:1'] });
    expect(out[1]).toMatchObject({ decision: "allow", commands: [{ name: "ls" }] });
    expect(out[2]).toEqual({ error: { line: 3, message: expect.stringMatching(/^not JSON: /) } });
    expect(out[3]).toMatchObject({ decision: "deny", reasons: [expect.stringContaining("reads /etc/passwd")] });
    expect(out[4]).toEqual({ error: { line: 5, message: expect.stringMatching(/^restrictions\.no_sudo: .*expected boolean/) } });
    expect(out[5]).toEqual({ error: { line: 6, message: expect.stringMatching(/command|cmd/) } });
    // --restrictions is the default of lines without their own.
    expect(out[6]).toMatchObject({ decision: "deny", reasons: ['no_sudo: "sudo" at 1:1'] });
    const response = POLICY_CONTRACTS["policy check"]!.response;
    for (const line of out) expect(response.safeParse(line).success, JSON.stringify(line)).toBe(true);
  });

  it("--batch keeps up with many lines", async () => {
    const input = Array.from({ length: 500 }, (_, i) => JSON.stringify({ command: i % 2 ? `rm f${i}` : `ls d${i}`, restrictions: { no_delete: true } })).join("\n");
    const r = await check(["--batch"], input);
    const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { decision: string; commands: { args: string[] }[] });
    expect(out).toHaveLength(500);
    out.forEach((o, i) => {
      expect(o.decision).toBe(i % 2 ? "deny" : "allow");
      expect(o.commands[0]!.args).toEqual([i % 2 ? `f${i}` : `d${i}`]);
    });
  });

  it("its request contract is in the CLI's table when the command runs, and the output matches its response contract", async () => {
    let stdout = "";
    const code = await runCli(["policy", "check", "--json", "--", "ls"], { stdout: { write: (s: string) => (stdout += s) } });
    expect(code).toBe(0);
    expect(CONTRACTS["policy check"]).toBeDefined();
    expect(POLICY_CONTRACTS["policy check"]!.response.safeParse(JSON.parse(stdout)).success).toBe(true);
    expect(POLICY_CONTRACTS["policy check"]!.request.safeParse({ args: ["ls"], restrictions: "{}", batch: false }).success).toBe(true);
  });
});
