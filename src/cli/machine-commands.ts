import type { Command } from "commander";
import type { CommandHelpers } from "./schedule-commands.js";

/** `grove machines add|list|test|remove` (DESIGN §9). Actions import their module lazily. */
export function registerMachineCommands(program: Command, h: CommandHelpers): void {
  const { withGlobals, positiveInt } = h;
  const machines = program.command("machines").description('where commands run: "local" and the ssh machines in the store');

  withGlobals(
    machines
      .command("add")
      .description("register an ssh machine for your scope (no secret is stored: a key file path, or --password-env VAR)")
      .argument("<name>", "the machine's name (letters, digits, _ . -)")
      .requiredOption("--ssh <user@host:port>", "where to connect (port 22 when omitted)")
      .option("--key <path>", "private key file; refused when group or others may read it (chmod 600)")
      .option("--password-env <VAR>", "read the password from this environment variable when connecting")
      .option("--known-hosts <path>", "known_hosts file to check the host key against (default ~/.ssh/known_hosts)")
      .option("--labels <k=v,…>", "labels, used by fleet tasks (labels: {k: v})"),
  ).action(async (name: string, opts) => (await import("./machines.js")).addCommand(name, opts));

  withGlobals(machines.command("list").description('"local" and the machines your scope may use or manages'))
    .action(async (opts) => (await import("./machines.js")).listCommand(opts));

  withGlobals(machines.command("test").description("connect and run `true`: prints the latency, or the error (exit 1)").argument("<name>"))
    .option("--timeout-ms <ms>", "give up after this long", positiveInt("--timeout-ms"), 15_000)
    .action(async (name: string, opts) => (await import("./machines.js")).testCommand(name, opts));

  withGlobals(machines.command("remove").description("remove a machine your scope manages").argument("<name>"))
    .action(async (name: string, opts) => (await import("./machines.js")).removeCommand(name, opts));
}
