import { Option, type Command } from "commander";

export interface CommandHelpers {
  withGlobals(cmd: Command): Command;
  positiveInt(flag: string): (value: string) => number;
  collect(value: string, previous?: string[]): string[];
}

/**
 * `grove schedules …` and `grove scheduler` (DESIGN §7). Registered on the program by
 * program.ts; actions import their modules lazily.
 */
export function registerScheduleCommands(program: Command, h: CommandHelpers): void {
  const { withGlobals, positiveInt } = h;
  const schedules = program.command("schedules").description("fire task trees and grove commands on a schedule (oneshot, interval, cron)");

  withGlobals(
    schedules
      .command("add")
      .description("add a schedule (or, with --overwrite, a new version of one) firing a tree file or a grove command line given after --")
      .argument("[argv...]", "the grove command line to run, after -- (e.g. -- tasks list --json)")
      .option("--name <name>", "the schedule's name (unique per owner)")
      .option("--oneshot", "fire once, now")
      .option("--at <iso>", "fire once, at this time (2025-06-01T09:00:00Z)")
      .option("--every <duration>", "fire every 90s | 5m | 2h | 1d (counted from each firing)")
      .option("--cron <expr>", 'fire at the times of a cron expression ("*/5 * * * *", 5 fields, or 6 with seconds)')
      .option("--tz <zone>", "time zone of --cron (default: this machine's)")
      .option("--overwrite", "replace a schedule of that name with a new version")
      .option("--max-runs <n>", "stop after n firings", positiveInt("--max-runs"))
      .option("--start-at <iso>", "not before this time")
      .option("--end-at <iso>", "not after this time")
      .option("--disabled", "add it disabled (grove schedules enable NAME later)")
      .option("--tree <file>", "fire this tree file (validated now, stored, and run as a new tree at each firing)"),
  ).action(async (argv: string[], opts) => (await import("./schedules.js")).addCommand(argv, opts));

  withGlobals(schedules.command("list").description("the schedules in your scope"))
    .option("--all", "include deleted schedules")
    .action(async (opts) => (await import("./schedules.js")).listCommand(opts));

  withGlobals(schedules.command("show").description("one schedule, its versions and recent runs").argument("<name>"))
    .action(async (name: string, opts) => (await import("./schedules.js")).showCommand(name, opts));

  withGlobals(
    schedules
      .command("run")
      .description("fire every due schedule in your scope once, in parallel, and wait for the runs (exit 1 if one failed)")
      .option("--stream-all", "print every item of every run instead of one summary per run")
      .option("--limit <n>", "claim at most n due schedules", positiveInt("--limit"))
      .option("--concurrency <n>", "targets running at once", positiveInt("--concurrency"), 32)
      .addOption(new Option("--lease-ms <ms>", "run lease (heartbeated); a run whose runner died is marked abandoned after it").argParser(positiveInt("--lease-ms")))
      .option("--allow-private-network", "let http tasks of tree targets reach loopback and private addresses"),
  ).action(async (opts) => (await import("./schedules.js")).runCommand(opts));

  withGlobals(schedules.command("logs").description("the stored items of a schedule's runs, errors included").argument("<name>"))
    .option("--run <id>", "only this run")
    .option("--limit <n>", "the newest n runs", positiveInt("--limit"), 20)
    .action(async (name: string, opts) => (await import("./schedules.js")).logsCommand(name, opts));

  withGlobals(schedules.command("delete").description("delete a schedule (its versions and runs are kept)").argument("<name>"))
    .action(async (name: string, opts) => (await import("./schedules.js")).deleteCommand(name, opts));
  withGlobals(schedules.command("enable").description("let a disabled schedule fire again").argument("<name>"))
    .action(async (name: string, opts) => (await import("./schedules.js")).enableCommand(name, true, opts));
  withGlobals(schedules.command("disable").description("stop a schedule from firing until enabled").argument("<name>"))
    .action(async (name: string, opts) => (await import("./schedules.js")).enableCommand(name, false, opts));

  withGlobals(schedules.command("prune").description("delete finished runs (and their items) older than a duration"))
    .option("--older-than <duration>", "e.g. 30d, 12h")
    .action(async (opts) => (await import("./schedules.js")).pruneCommand(opts));

  withGlobals(
    program
      .command("scheduler")
      .description("the daemon: fires schedules of your scope when due, until SIGTERM (several may share a store)")
      .option("--concurrency <n>", "targets running at once", positiveInt("--concurrency"), 32)
      .addOption(new Option("--lease-ms <ms>", "run lease (heartbeated); a run whose scheduler died is marked abandoned after it").argParser(positiveInt("--lease-ms")))
      .option("--grace-ms <ms>", "on SIGTERM, how long runs in flight may finish before they are marked abandoned", positiveInt("--grace-ms"), 10_000)
      .option("--allow-private-network", "let http tasks of tree targets reach loopback and private addresses"),
  ).action(async (opts) => (await import("./scheduler.js")).schedulerCommand(opts));
}
