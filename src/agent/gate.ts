// What happens to one action the model asks for: the command policy decides first (deny and
// simulate are final), then the approval mode adds approvals. The risk of a command is read off
// the same policy: it would be denied by no_sudo/no_delete → high; it is not read-only (dry_run
// would simulate it) → medium; else low.
import type { Policy } from "./policy/check.js";
import type { ParsedRestrictions } from "./policy/types.js";
import type { ApprovalMode } from "./types.js";

export type GateAction = "run" | "deny" | "simulate" | "approve";
export type Risk = "low" | "medium" | "high";

export interface Gate {
  action: GateAction;
  reasons: string[];
  risk: Risk;
}

export function riskOf(policy: Policy, command: string, cwd: string): { risk: Risk; reasons: string[] } {
  const destructive = policy.check(command, { no_sudo: true, no_delete: true }, { cwd });
  if (destructive.decision === "deny") return { risk: "high", reasons: destructive.reasons.map((r) => `risk: ${r}`) };
  const writes = policy.check(command, { dry_run: true }, { cwd });
  if (writes.decision !== "allow") return { risk: "medium", reasons: writes.reasons.map((r) => `risk: ${r.replace(/^dry_run: /, "")}`) };
  return { risk: "low", reasons: [] };
}

export function gateCommand(policy: Policy, command: string, cwd: string, restrictions: ParsedRestrictions, approval: ApprovalMode): Gate {
  const d = policy.check(command, restrictions, { cwd });
  if (d.decision === "deny") return { action: "deny", reasons: d.reasons, risk: "high" };
  if (d.decision === "simulate") return { action: "simulate", reasons: d.reasons, risk: "medium" };
  const { risk, reasons } = riskOf(policy, command, cwd);
  if (d.decision === "ask") return { action: "approve", reasons: d.reasons, risk: risk === "low" ? "medium" : risk };
  if (approval === "always") return { action: "approve", reasons: ["approval: always", ...reasons], risk };
  if (approval === "on_risk" && risk !== "low") return { action: "approve", reasons: ["approval: on_risk", ...reasons], risk };
  return { action: "run", reasons: [], risk };
}

/** A path in single quotes, for the synthetic commands the file tools are checked as. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The file tools are checked as the command that would do the same (`cat`, `ls`, a redirect), with
 * only the restrictions about paths (and dry_run for writes): allowed_dirs/read_only_dirs then apply
 * exactly as they do to commands, symlinks and `..` included.
 */
export function gateFile(
  policy: Policy,
  op: "read" | "list" | "write",
  path: string,
  cwd: string,
  restrictions: ParsedRestrictions,
  approval: ApprovalMode,
): Gate {
  const dirs: ParsedRestrictions = {};
  if (restrictions.allowed_dirs !== undefined) dirs.allowed_dirs = restrictions.allowed_dirs;
  if (restrictions.read_only_dirs !== undefined) dirs.read_only_dirs = restrictions.read_only_dirs;
  if (op === "write" && restrictions.dry_run) dirs.dry_run = true;
  const command = op === "read" ? `cat -- ${shellQuote(path)}` : op === "list" ? `ls -- ${shellQuote(path)}` : `printf '' > ${shellQuote(path)}`;
  const d = policy.check(command, dirs, { cwd });
  const reasons = d.reasons.map((r) => r.replace(/"(cat|ls|redirect)"/, op === "write" ? "write_file" : op === "read" ? "read_file" : "list_dir"));
  if (d.decision === "deny") return { action: "deny", reasons, risk: "high" };
  if (d.decision === "simulate") return { action: "simulate", reasons, risk: "medium" };
  if (op === "write" && approval !== "never") return { action: "approve", reasons: [`approval: ${approval}`, "risk: writes a file"], risk: "medium" };
  return { action: "run", reasons: [], risk: op === "write" ? "medium" : "low" };
}
