// What the policy remembers between decisions (the last few extractions, compiled rule regexps)
// must never stand in for the file system: each decision resolves paths and symlinks afresh, and a
// remembered extraction gives the same decision as a fresh one.
import { mkdirSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUILTIN_RULE_FILES, loadPolicy, parseRestrictions, Restrictions } from "../../src/agent/policy/index.js";
import { decide, HOME, scratchTree } from "./helpers.js";

const t = scratchTree();
afterAll(() => rmSync(t.root, { recursive: true, force: true }));
const DIRS = { allowed_dirs: [t.work], read_only_dirs: [t.ro] };

describe("decisions between which the file system changes", () => {
  it("a symlink created between two decisions on the same command is honoured by the second", async () => {
    const link = join(t.work, "later");
    const command = `touch ${link}/x`;
    expect((await decide(command, DIRS, t.work)).decision).toBe("allow");
    symlinkSync(t.outside, link);
    try {
      const d = await decide(command, DIRS, t.work);
      expect(d.decision).toBe("deny");
      expect(d.reasons.join("\n")).toContain(`${t.outside}/x`);
    } finally {
      unlinkSync(link);
    }
    expect((await decide(command, DIRS, t.work)).decision).toBe("allow");
  });

  it("a directory replaced by a symlink between decisions is followed (longest existing prefix)", async () => {
    const dir = join(t.work, "moving");
    const command = `cat ${dir}/deep/file`;
    mkdirSync(dir);
    expect((await decide(command, DIRS, t.work)).decision).toBe("allow");
    rmSync(dir, { recursive: true });
    symlinkSync(t.workshop, dir);
    try {
      expect((await decide(command, DIRS, t.work)).reasons.join("\n")).toContain(`${t.workshop}/deep/file`);
    } finally {
      unlinkSync(dir);
    }
  });

  it("an allowed directory that becomes a symlink is resolved afresh", async () => {
    const dir = join(t.root, "allowed-later");
    const restrictions = { allowed_dirs: [dir] };
    const command = `touch ${t.outside}/y`;
    expect((await decide(command, restrictions, t.work)).decision).toBe("deny");
    symlinkSync(t.outside, dir);
    try {
      expect((await decide(command, restrictions, t.work)).decision).toBe("allow");
    } finally {
      unlinkSync(dir);
    }
    expect((await decide(command, restrictions, t.work)).decision).toBe("deny");
  });
});

describe("remembered extractions", () => {
  const commands = ["sudo rm -rf /tmp/x", "cd /etc && cat passwd > ~/p", "bash -c 'cd /srv && rm -f a'", "xargs rm < list", "echo $(id) | tee /tmp/o"];
  const sets = [{}, { no_sudo: true, no_delete: true }, { dry_run: true }, { allowed_dirs: ["/srv"], forbidden_commands: ["rm -f"] }, { require_approval: ["tee"] }];

  it("give the decisions of a policy that has not seen the command, whatever the order, cwd and home", async () => {
    const combos: [string, object, string, string][] = [];
    for (const cwd of ["/srv/app", "/etc"]) for (const home of [HOME, "/root"]) for (const c of commands) for (const r of sets) combos.push([c, r, cwd, home]);
    const warm = await loadPolicy();
    const remembered = combos.map(([c, r, cwd, home]) => warm.check(c, r, { cwd, home }));
    const other = await loadPolicy([...BUILTIN_RULE_FILES]); // same rules, a new Policy object
    const flush = () => ["true 1", "true 2", "true 3", "true 4", "true 5"].forEach((c) => other.check(c, {}, { cwd: "/" }));
    for (let i = combos.length - 1; i >= 0; i--) {
      const [c, r, cwd, home] = combos[i]!;
      flush();
      expect(other.check(c, r, { cwd, home })).toEqual(remembered[i]);
    }
  });

  it("do not leak from one working directory or home to another", async () => {
    const policy = await loadPolicy();
    const a = policy.check("cat notes", { allowed_dirs: ["/srv/app"] }, { cwd: "/srv/app", home: HOME });
    const b = policy.check("cat notes", { allowed_dirs: ["/srv/app"] }, { cwd: "/etc", home: HOME });
    expect(a.decision).toBe("allow");
    expect(b.decision).toBe("deny");
    const c = policy.check("cat ~/notes", { allowed_dirs: [HOME] }, { cwd: "/", home: HOME });
    const d = policy.check("cat ~/notes", { allowed_dirs: [HOME] }, { cwd: "/", home: "/root" });
    expect(c.decision).toBe("allow");
    expect(d.decision).toBe("deny");
  });
});

describe("parseRestrictions", () => {
  const shapes: unknown[] = [
    undefined,
    null,
    {},
    { no_sudo: true, no_delete: false, dry_run: true },
    { allowed_dirs: [], read_only_dirs: ["/a", "b"] },
    { forbidden_commands: [" rm -rf / ", "shutdown"], require_approval: ["git  push "] },
    { allowed_dirs: [""] },
    { forbidden_commands: ["   "] },
    { require_approval: ["x", { command: " y ", reason: "r" }] },
    { no_sudo: 1 },
    { no_sudo: undefined },
    { unknown: true },
    { allowed_dirs: "/a" },
    // eslint-disable-next-line no-sparse-arrays
    { allowed_dirs: [, "/a"] },
    Object.create({ no_sudo: true }) as unknown,
    [],
    "no_sudo",
  ];
  it("gives exactly the schema's result, or its error", () => {
    for (const input of shapes) {
      const schema = Restrictions.safeParse(input ?? {});
      if (schema.success) {
        const out = parseRestrictions(input);
        expect(out).toStrictEqual(schema.data);
        expect(Object.keys(out)).toEqual(Object.keys(schema.data));
      } else expect(() => parseRestrictions(input)).toThrow();
    }
  });
});
