// Per-run restrictions only narrow the machine's (DESIGN §9).
import { describe, expect, it } from "vitest";
import { narrowRestrictions } from "../../src/agent/policy/index.js";
import { decide } from "./helpers.js";

describe("narrowRestrictions", () => {
  it("keeps every boolean and entry either side sets", () => {
    expect(narrowRestrictions({ no_sudo: true, forbidden_commands: ["shutdown"] }, { dry_run: true, forbidden_commands: ["rm -rf /", "shutdown"] })).toEqual({
      no_sudo: true,
      dry_run: true,
      forbidden_commands: ["shutdown", "rm -rf /"],
    });
  });

  it("keeps only directories both allow", () => {
    expect(narrowRestrictions({ allowed_dirs: ["/srv"] }, { allowed_dirs: ["/srv/app", "/tmp"] })).toEqual({ allowed_dirs: ["/srv/app"] });
    expect(narrowRestrictions({ allowed_dirs: ["/srv/app"] }, { allowed_dirs: ["/srv/"] })).toEqual({ allowed_dirs: ["/srv/app"] });
    expect(narrowRestrictions({ allowed_dirs: ["/tmp/work"] }, { allowed_dirs: ["/tmp/workshop"] })).toEqual({ allowed_dirs: [] });
    expect(narrowRestrictions({}, { read_only_dirs: ["/etc"] })).toEqual({ allowed_dirs: [], read_only_dirs: ["/etc"] });
  });

  it("a run cannot widen: writing where the machine only reads stays read-only", () => {
    const r = narrowRestrictions({ allowed_dirs: ["/srv/app"], read_only_dirs: ["/etc"] }, { allowed_dirs: ["/srv/app", "/etc"] });
    expect(r).toEqual({ allowed_dirs: ["/srv/app"], read_only_dirs: ["/etc"] });
    expect(narrowRestrictions({ read_only_dirs: ["/srv"] }, { allowed_dirs: ["/srv"] })).toEqual({ allowed_dirs: [], read_only_dirs: ["/srv"] });
  });

  it("the narrowed set decides at least as strictly as each side", async () => {
    const machine = { no_sudo: true, allowed_dirs: ["/srv/app"] };
    const run = { no_delete: true, allowed_dirs: ["/srv"] };
    const both = narrowRestrictions(machine, run);
    for (const command of ["sudo ls", "rm x", "touch /srv/other/x", "touch /srv/app/x"]) {
      const d = await decide(command, both, "/srv/app");
      for (const side of [machine, run]) if ((await decide(command, side, "/srv/app")).decision === "deny") expect(d.decision, command).toBe("deny");
    }
    expect((await decide("touch /srv/app/x", both, "/srv/app")).decision).toBe("allow");
  });
});
