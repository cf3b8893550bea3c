import type { Command } from "commander";
import type { CommandHelpers } from "./schedule-commands.js";

/** `grove tasks approve|reject|approvals` (DESIGN §9). Registered on `tasks` by program.ts; actions import lazily. */
export function registerApprovalCommands(tasks: Command, h: CommandHelpers): void {
  h.withGlobals(tasks.command("approve").description("approve a task waiting for approval: it resumes on the next run or worker").argument("<id>", "task id"))
    .option("--reason <text>", "why (recorded, shown to the executor)")
    .action(async (id: string, opts) => (await import("./approvals.js")).decideCommand(id, "approved", opts));
  h.withGlobals(tasks.command("reject").description("reject a task waiting for approval: the executor resumes and is told no").argument("<id>", "task id"))
    .option("--reason <text>", "why (recorded, shown to the executor)")
    .action(async (id: string, opts) => (await import("./approvals.js")).decideCommand(id, "rejected", opts));
  h.withGlobals(tasks.command("approvals").description("tasks waiting for approval, oldest first: command, reasons, risk"))
    .option("--tree <id>", "only this tree")
    .option("--limit <n>", "at most n", h.positiveInt("--limit"), 100)
    .action(async (opts) => (await import("./approvals.js")).approvalsCommand(opts));
}
