import type { Command } from "commander";
import type { CommandHelpers } from "./schedule-commands.js";

/** `grove policy check` (DESIGN §9). Registered on the program by program.ts. */
export function registerPolicyCommands(_program: Command, _h: CommandHelpers): void {
  // filled in by the policy work
}
