// Rule files carry match / not_match examples that are verified when they load (as Codex's
// execpolicy does): the built-in ones load, and a broken file is rejected with a clear message.
import { describe, expect, it } from "vitest";
import { BUILTIN_RULE_FILES, loadPolicy, PolicyConfigError, PolicyRuleError, Restrictions, type RuleFile } from "../../src/agent/policy/index.js";
import { decide } from "./helpers.js";

async function loadError(files: readonly RuleFile[]): Promise<PolicyRuleError> {
  try {
    await loadPolicy(files);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyRuleError);
    return err as PolicyRuleError;
  }
  throw new Error("the rules loaded");
}

const withFile = (file: RuleFile) => [...BUILTIN_RULE_FILES, file];

describe("rule files", () => {
  it("the built-in files load, and carry examples for their rules", async () => {
    const policy = await loadPolicy();
    expect(policy.rules.wrappers.get("sudo")?.id).toBe("sudo");
    const examples = BUILTIN_RULE_FILES.flatMap((f) => (f.rules as { match?: string[]; not_match?: string[] }[]).flatMap((r) => [...(r.match ?? []), ...(r.not_match ?? [])]));
    expect(examples.length).toBeGreaterThan(250);
    const withoutExamples = BUILTIN_RULE_FILES.flatMap((f) => (f.rules as { id: string; match?: string[]; not_match?: string[] }[]).filter((r) => !r.match?.length && !r.not_match?.length).map((r) => `${f.name}/${r.id}`));
    expect(withoutExamples).toEqual([]);
  });

  it("a rule whose match example does not match is rejected, naming the file, the rule and the example", async () => {
    const err = await loadError(withFile({ name: "mine", kind: "no_delete", rules: [{ id: "wipe", patterns: ["wipe"], match: ["wipe x", "wype x"] }] }));
    expect(err.message).toBe('policy rules do not load: file "mine", rule "wipe": match example "wype x" does not match (commands: "wype x")');
  });

  it("a rule whose not_match example matches is rejected", async () => {
    const err = await loadError(withFile({ name: "mine", kind: "fail_closed", rules: [{ id: "curl-pipe", patterns: ["curl"], not_match: ["ls", "env curl x"] }] }));
    expect(err.problems).toEqual(['file "mine", rule "curl-pipe": not_match example "env curl x" matches "curl x"']);
  });

  it("every failing example is listed, not only the first", async () => {
    const err = await loadError(
      withFile({
        name: "mine",
        kind: "read_only",
        rules: [
          { id: "a", patterns: ["lsx"], match: ["ls"] },
          { id: "b", patterns: ["cat"], not_match: ["cat f"] },
        ],
      }),
    );
    expect(err.problems).toHaveLength(2);
  });

  it("a wrapper example checks the carried command", async () => {
    const broken = structuredClone(BUILTIN_RULE_FILES[0]!) as Extract<RuleFile, { kind: "wrappers" }>;
    broken.rules.find((r) => r.id === "timeout")!.match!.push("timeout -s KILL 5 rm x => KILL 5 rm x");
    const err = await loadError([broken, ...BUILTIN_RULE_FILES.slice(1)]);
    expect(err.problems).toEqual(['file "wrappers", rule "timeout": match example "timeout -s KILL 5 rm x => KILL 5 rm x" carries "rm x", not "KILL 5 rm x"']);
  });

  it("a file example checks the paths written and read", async () => {
    const err = await loadError(withFile({ name: "mine", kind: "files", rules: [{ id: "cpx", names: ["cpx"], writes: "last", match: ["cpx a b => a"] }] }));
    expect(err.problems).toEqual(['file "mine", rule "cpx": match example "cpx a b => a" writes ["b"], not ["a"]']);
  });

  it("a malformed file is rejected with the path of the bad field", async () => {
    const err = await loadError([...BUILTIN_RULE_FILES, { name: "mine", kind: "no_sudo", rules: [{ id: "x", patterns: [], match: ["ls"] }] } as RuleFile]);
    expect(err.problems[0]).toMatch(/^file "mine": rules\.0\.patterns: /);
    const unknownKind = await loadError([{ name: "odd", kind: "nope", rules: [] } as unknown as RuleFile]);
    expect(unknownKind.problems[0]).toMatch(/^file "odd": kind: /);
  });

  it("two wrappers for one name are rejected", async () => {
    const err = await loadError(withFile({ name: "mine", kind: "wrappers", rules: [{ id: "sudo2", names: ["sudo"], kind: "argv", match: ["sudo ls => ls"] }] }));
    expect(err.problems).toContain('file "mine": "sudo" has two wrappers');
  });

  it("a valid extra file adds its rules", async () => {
    const policy = await loadPolicy(withFile({ name: "site", kind: "no_delete", rules: [{ id: "wipe", patterns: ["wipe"], match: ["sudo wipe /dev/sda"], not_match: ["echo wipe"] }] }));
    expect(policy.check("timeout 5 wipe x", { no_delete: true }, { cwd: "/" }).reasons).toEqual(['no_delete: "wipe" at 1:11 via timeout']);
  });
});

describe("restrictions", () => {
  it("are validated: a wrong type or an unknown key names the field", async () => {
    await expect(decide("ls", { no_sudo: "yes" })).rejects.toThrow(PolicyConfigError);
    await expect(decide("ls", { no_sudo: "yes" })).rejects.toThrow(/^no_sudo: /);
    await expect(decide("ls", { allowed_dirs: ["/a", 3] })).rejects.toThrow(/^allowed_dirs\[1\]: /);
    await expect(decide("ls", { "no-sudo": true })).rejects.toThrow(/no-sudo/);
    expect(Restrictions.safeParse({ no_sudo: true, forbidden_commands: ["rm -rf /"] }).success).toBe(true);
  });

  it("forbidden_commands / require_approval entries may carry examples, checked before use", async () => {
    const entry = { command: "rm -rf /", reason: "wipes the machine", match: ["sudo rm -fr /", "rm --recursive --force //"], not_match: ["rm -rf /tmp"] };
    const d = await decide("rm -Rf /", { forbidden_commands: [entry] });
    expect(d).toMatchObject({ decision: "deny", reasons: ['forbidden_commands: "rm -rf /" matches "rm -Rf /" at 1:1 (wipes the machine)'] });
    const bad = { command: "rm -rf /", match: ["rm -rf /tmp"] };
    await expect(decide("ls", { forbidden_commands: ["shutdown", bad] })).rejects.toThrow('forbidden_commands[1].match[0]: "rm -rf /" does not match its example "rm -rf /tmp"');
    const bad2 = { command: "git push", not_match: ["git push origin"] };
    await expect(decide("ls", { require_approval: [bad2] })).rejects.toThrow(/^require_approval\[0\]\.not_match\[0\]: /);
  });

  it("with none set, everything is allowed and the commands are still listed", async () => {
    const d = await decide("sudo rm -rf / ; $X", {});
    expect(d.decision).toBe("allow");
    expect(d.commands.map((c) => c.name)).toEqual(["sudo", "rm", "$X"]);
  });
});
