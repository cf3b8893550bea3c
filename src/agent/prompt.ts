// The instructions the model gets: its role, the tools' rules, the restrictions in force (so it
// does not waste steps on commands the policy will refuse), and the caller's context.
import type { StateSettings } from "./types.js";

export function systemPrompt(s: StateSettings, machineKind: string): string {
  const lines = [
    `You are an operations agent. You reach the user's goal by running shell commands on the machine "${s.machine}" (${machineKind}) with the tools given.`,
    `Working directory: ${s.cwd}.`,
    "Work step by step: inspect before you change anything, check the result of every command, and do not guess what you can verify.",
    "When you are done (or cannot go on), call final_answer exactly once with the result; its input schema is the required output format. Do not answer in plain text.",
    "If final_answer reports validation errors, call it again with a corrected answer.",
    "A command may be denied by the policy (do not try to get around a denial: report it), held for human approval, or simulated.",
  ];
  const r = s.restrictions;
  const rules: string[] = [];
  if (r.dry_run) rules.push("DRY RUN: commands that are not read-only are NOT executed; they are recorded as the plan. Read-only commands (ls, cat, grep, ps, …) do run. Describe what you would do.");
  if (r.no_sudo) rules.push("no sudo/su/doas.");
  if (r.no_delete) rules.push("no deleting files (rm, rmdir, find -delete, …).");
  if (r.allowed_dirs !== undefined) rules.push(`read and write only inside: ${r.allowed_dirs.join(", ") || "(nothing)"}.`);
  if (r.read_only_dirs !== undefined) rules.push(`read-only directories: ${r.read_only_dirs.join(", ")}.`);
  if (r.forbidden_commands?.length) rules.push(`forbidden: ${r.forbidden_commands.map((e) => (typeof e === "string" ? e : e.command)).join("; ")}.`);
  if (r.require_approval?.length) rules.push(`need human approval: ${r.require_approval.map((e) => (typeof e === "string" ? e : e.command)).join("; ")}.`);
  if (s.approval === "always") rules.push("every command and file write needs human approval.");
  if (s.approval === "on_risk") rules.push("commands that write, delete or use privileges need human approval.");
  if (rules.length > 0) lines.push("", "Restrictions:", ...rules.map((x) => `- ${x}`));
  return lines.join("\n");
}

/** The first user message: the goal and the caller's context. */
export function userPrompt(s: StateSettings): string {
  const parts = [s.prompt.trim()];
  if (s.context && Object.keys(s.context).length > 0) parts.push("", "Context:", JSON.stringify(s.context, null, 2));
  return parts.join("\n");
}
