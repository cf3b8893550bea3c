import type { Command } from "commander";

export interface CommandHelpers {
  withGlobals(cmd: Command): Command;
  positiveInt(flag: string): (value: string) => number;
  collect(value: string, previous?: string[]): string[];
}

/**
 * `grove schedules …` and `grove scheduler` (DESIGN §7). Registered on the program by
 * program.ts; actions import their modules lazily.
 */
export function registerScheduleCommands(_program: Command, _h: CommandHelpers): void {
  // filled in by the schedules work
}
