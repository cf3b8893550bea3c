import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPolicy, type Policy, type PolicyDecision } from "../../src/agent/policy/index.js";

let policy: Policy | undefined;

/** The built-in policy (loaded once per test file). */
export async function getPolicy(): Promise<Policy> {
  policy ??= await loadPolicy();
  return policy;
}

export const HOME = "/home/agent";

export async function decide(command: string, restrictions: unknown, cwd = "/srv/app"): Promise<PolicyDecision> {
  return (await getPolicy()).check(command, restrictions, { cwd, home: HOME });
}

/**
 * A scratch tree: ROOT/work (with sub/ and a symlink `out` → ROOT/outside), ROOT/workshop,
 * ROOT/ro, ROOT/outside. Paths are real (no symlinked /tmp surprises).
 */
export function scratchTree() {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "grove-policy-")));
  const dirs = { root, work: join(root, "work"), sub: join(root, "work/sub"), workshop: join(root, "workshop"), ro: join(root, "ro"), outside: join(root, "outside") };
  for (const d of [dirs.work, dirs.sub, dirs.workshop, dirs.ro, dirs.outside]) mkdirSync(d, { recursive: true });
  symlinkSync(dirs.outside, join(dirs.work, "out"));
  symlinkSync("../ro", join(dirs.work, "rolink"));
  writeFileSync(join(dirs.ro, "data.txt"), "x");
  writeFileSync(join(dirs.work, "a.txt"), "x");
  return dirs;
}
