import type { Command } from "commander";
import type { CommandHelpers } from "./schedule-commands.js";

/** `grove policy check` (DESIGN §9). Registered on the program by program.ts; actions import their modules lazily. */
export function registerPolicyCommands(program: Command, h: CommandHelpers): void {
  const policy = program.command("policy").description("the AI agent's command policy: what a bash command string may do under restrictions");
  h.withGlobals(
    policy
      .command("check")
      .description("decide allow | deny | ask | simulate for a command (exit 0 whenever the check ran; 2 for bad input)")
      .argument("[command...]", "the bash command, after -- (quote it to keep its own quoting: -- 'ls; rm x')")
      .option("--restrictions <json>", 'restrictions as JSON (or @FILE): {"no_sudo":true,"no_delete":true,"dry_run":true,"allowed_dirs":[…],"read_only_dirs":[…],"forbidden_commands":[…],"require_approval":[…]}')
      .option("--cwd <dir>", "the directory the command would run in (default: the current one)")
      .option("--batch", "read JSON lines {command, restrictions, cwd} on stdin and print one {decision, reasons, commands} line per input, in order"),
  ).action(async (command: string[], opts) => (await import("./policy.js")).policyCheckCommand(command, opts));
}
