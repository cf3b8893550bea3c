// The policy never throws on odd input: random shell-ish strings always get a decision, and a
// string that does not parse is denied as soon as any restriction is set.
import { describe, expect, it } from "vitest";
import { PolicyDecisionJson } from "../../src/agent/policy/index.js";
import { decide } from "./helpers.js";

const TOKENS = [
  "rm", "sudo", "ls", "-rf", "/", "~", "..", "x", "'a b'", '"$X"', "$(", ")", "`", "|", "||", "&&", ";", "&", "\n", "<", ">", ">>", "2>&1",
  "<<EOF\n", "EOF\n", "<(", "{", "}", "(", "if", "then", "fi", "for", "in", "do", "done", "case", "esac", ";;", "bash", "-c", "env", "A=1",
  "find", "-exec", "{}", "\\;", "+", "xargs", "timeout", "5", "cd", "*", "?", "[a]", "$'\\x72'", "\\\n", "#", "=", "!", "$((1+2))", "eval", ".",
];

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe("random input", () => {
  it("always gets a well-formed decision", async () => {
    const next = rng(42);
    const restrictions = [{}, { no_sudo: true, no_delete: true }, { dry_run: true }, { allowed_dirs: ["/srv"], forbidden_commands: ["rm -rf /"] }];
    for (let i = 0; i < 1500; i++) {
      const n = 1 + Math.floor(next() * 12);
      const command = Array.from({ length: n }, () => TOKENS[Math.floor(next() * TOKENS.length)]).join(next() < 0.7 ? " " : "");
      const r = restrictions[i % restrictions.length]!;
      const d = await decide(command, r);
      expect(PolicyDecisionJson.safeParse(d).success, command).toBe(true);
      if (Object.keys(r).length > 0 && d.reasons.some((x) => x.startsWith("fail_closed: parse error"))) expect(d.decision, command).toBe("deny");
    }
  }, 120_000);
});
