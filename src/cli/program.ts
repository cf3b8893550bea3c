// The `grove` command tree. Only commander is imported up front: each action imports its module
// when it runs, so `grove --version` and `grove --help` stay fast (DESIGN §1). A fresh program is
// built per invocation, so commands can also be dispatched in-process (schedules firing an argv).
import { Command, CommanderError, Option } from "commander";
import { readFileSync } from "node:fs";
import { handleError } from "./errors.js";
import { registerAgentCommands } from "./agent-commands.js";
import { registerApprovalCommands } from "./approval-commands.js";
import { registerMachineCommands } from "./machine-commands.js";
import { registerPolicyCommands } from "./policy-commands.js";
import { registerScheduleCommands } from "./schedule-commands.js";
import { registerServerCommands } from "./server-commands.js";
import { io, withIO, write, writeErr, type CommandIO } from "./io.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const collect = (value: string, previous: string[] = []) => [...previous, value];
const positiveInt = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CommanderError(2, "grove.invalidArgument", `${flag} must be a positive integer, got "${value}"`);
  return n;
};

export interface GlobalOptions {
  db?: string;
  as?: string;
  json?: boolean;
  executors?: string[];
}

export function withGlobals(cmd: Command): Command {
  return cmd
    .option("--db <path>", "database: SQLite file (default .grove/grove.db) or GROVE_DATABASE_URL")
    .option("--as <scope>", "act as this owner scope (default GROVE_SCOPE, or everything)")
    .option("--json", "print JSON for scripts")
    .option("--executors <module>", "load executors from a JS module (repeatable)", collect)
    .option("--jq <expr>", "with --json: apply this jq filter to each output item (null results are dropped)")
    .option("--request-schema", "print the JSON Schema of this command's input and exit")
    .option("--response-schema", "print the JSON Schema of this command's --json output and exit");
}

export function buildProgram(): Command {
const program = new Command("grove")
  .description("Run task trees on your machines.")
  .version(pkg.version, "-v, --version")
  .showHelpAfterError()
  .exitOverride()
  .configureOutput({ writeErr: (s) => writeErr(s), writeOut: (s) => write(s) })
  .hook("preAction", async (_root, action) => checkRequest(action));

withGlobals(
  program
    .command("run")
    .description("validate a tree file, store it and run it to the end (exit 0 completed, 1 failed/cancelled, 2 invalid input, 3 waiting for approval)")
    .argument("[file]", "tree file (.json, .yaml) in grove or apflow format")
    .option("--resume <tree_id>", "continue a stored tree: completed tasks are not run again")
    .option("--concurrency <n>", "tasks running at once", positiveInt("--concurrency"), 8)
    .addOption(new Option("--lease-ms <ms>", "lease length; a crashed run's tasks are retried after it").argParser(positiveInt("--lease-ms")))
    .option("--input <key=value>", "override a tree input (value parsed as JSON when it is JSON; repeatable)", collect)
    .option("--allow-private-network", "let http tasks reach loopback and private addresses (GROVE_ALLOW_PRIVATE_NETWORK=1)")
    .option("--detach", "store the tree and print its id without running it (a `grove worker` runs it)")
    .option("--no-progress", "plain lines even on a terminal"),
).action(async (file: string | undefined, opts) => (await import("./run.js")).runCommand(file, opts));

const tasks = program.command("tasks").description("inspect and control tasks");
withGlobals(tasks.command("list").description("list tasks, newest first"))
  .option("--tree <id>", "only this tree")
  .option("--status <status>", "only this status")
  .option("--executor <id>", "only this executor")
  .option("--limit <n>", "at most n", positiveInt("--limit"), 50)
  .action(async (opts) => (await import("./tasks.js")).listCommand(opts));
withGlobals(tasks.command("get").description("one task with its attempts").argument("<id>"))
  .action(async (id: string, opts) => (await import("./tasks.js")).getCommand(id, opts));
withGlobals(tasks.command("tree").description("a tree and the state of each task").argument("<id>", "tree id or task id"))
  .action(async (id: string, opts) => (await import("./tasks.js")).treeCommand(id, opts));
withGlobals(tasks.command("logs").description("the stored events of a task or tree").argument("<id>", "task id or tree id"))
  .option("--after <seq>", "only events after this seq", "0")
  .action(async (id: string, opts) => (await import("./tasks.js")).logsCommand(id, opts));
withGlobals(tasks.command("cancel").description("cancel a task, or every unfinished task of a tree").argument("<id>", "task id or tree id"))
  .option("--reason <text>", "stored as the cancellation message")
  .action(async (id: string, opts) => (await import("./tasks.js")).cancelCommand(id, opts));
withGlobals(tasks.command("retry").description("start a failed, cancelled or skipped task over, then run its tree").argument("<id>", "task id"))
  .option("--no-run", "only reset the task; run it later with grove run --resume")
  .option("--concurrency <n>", "tasks running at once", positiveInt("--concurrency"), 8)
  .action(async (id: string, opts) => (await import("./tasks.js")).retryCommand(id, opts));

registerApprovalCommands(tasks, { withGlobals, positiveInt, collect });

withGlobals(tasks.command("watch").description("stream a tree's events until it ends (exit 0 completed, 1 otherwise)").argument("<tree_id>"))
  .option("--after <seq>", "only events after this seq", "0")
  .action(async (id: string, opts) => (await import("./watch.js")).watchCommand(id, opts));

withGlobals(
  program
    .command("worker")
    .description("run ready tasks of any tree in the store until SIGTERM (use with --db postgres://… on many machines)")
    .option("--concurrency <n>", "tasks running at once", positiveInt("--concurrency"), 8)
    .option("--labels <k=v,…>", "this worker's labels: tasks with a placement run only on workers having those labels")
    .addOption(new Option("--lease-ms <ms>", "lease length (default 30000, GROVE_LEASE_MS)").argParser(positiveInt("--lease-ms")))
    .option("--grace-ms <ms>", "on SIGTERM, how long in-flight tasks may finish before being handed back", positiveInt("--grace-ms"), 10_000)
    .option("--allow-private-network", "let http tasks reach loopback and private addresses"),
).action(async (opts) => (await import("./worker.js")).workerCommand(opts));

const executors = program.command("executors").description("the executors this process knows");
withGlobals(executors.command("list").description("every registered executor"))
  .action(async (opts) => (await import("./executors.js")).listExecutorsCommand(opts));
withGlobals(executors.command("schema").description("the input and output JSON Schema of an executor").argument("<id>"))
  .action(async (id: string, opts) => (await import("./executors.js")).schemaCommand(id, opts));

withGlobals(
  program
    .command("generate")
    .description("ask the model (GROVE_MODEL) for a task tree meeting REQUIREMENT, validated like a tree file; print it, write it (-o) or run it (--run)")
    .argument("<requirement>", "what the tree should do, in natural language")
    .option("-o, --output <file>", "write the tree to this file (JSON)")
    .option("--run", "store and run the tree (exit 0 completed, 1 otherwise)")
    .option(
      "--allow <ids>",
      "comma-separated executors the tree may use, or * (default: all registered but command, docker, ssh, agent, mcp, grove_api)",
    )
    .option("--model <provider:model>", "default GROVE_MODEL")
    .option("--temperature <t>", "sampling temperature", (v: string) => Number(v))
    .option("--max-tokens <n>", "limit on the answer's tokens", positiveInt("--max-tokens"))
    .option("--concurrency <n>", "with --run: tasks running at once", positiveInt("--concurrency"), 8)
    .option("--allow-private-network", "with --run: let tasks reach loopback and private addresses"),
).action(async (requirement: string, opts) => (await import("./generate.js")).generateCommand(requirement, opts));

registerScheduleCommands(program, { withGlobals, positiveInt, collect });
registerPolicyCommands(program, { withGlobals, positiveInt, collect });
registerAgentCommands(program, { withGlobals, positiveInt, collect });
registerMachineCommands(program, { withGlobals, positiveInt, collect });
registerServerCommands(program, { withGlobals, positiveInt, collect });

return program;
}

/** `tasks list` for the command being run. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Validates the flags against the command's request contract; sets up `--jq`. */
async function checkRequest(action: Command): Promise<void> {
  const opts = action.opts() as Record<string, unknown>;
  const { CONTRACTS } = await import("./contracts.js");
  const contract = CONTRACTS[commandPath(action)];
  if (contract) {
    const parsed = contract.request.safeParse({ ...opts, args: action.args });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const [key, ...rest] = issue.path.map(String);
      const flag = key === "args" ? `argument ${rest.join(".")}` : `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw Object.assign(new Error(`${flag}: ${issue.message}`), { name: "InputError" });
    }
  }
  if (opts.jq !== undefined) {
    if (!opts.json) throw Object.assign(new Error("--jq needs --json"), { name: "InputError" });
    const { checkJq } = await import("./jq.js");
    await checkJq(String(opts.jq));
    io().jq = String(opts.jq);
  }
}

/**
 * `--request-schema` / `--response-schema`: answered before parsing, so that a command's schema
 * can be asked for without its required arguments. Returns false when the flags are absent.
 */
async function printSchema(argv: string[]): Promise<boolean> {
  const request = argv.includes("--request-schema");
  if (!request && !argv.includes("--response-schema")) return false;
  const { CONTRACTS, jsonSchemaOf } = await import("./contracts.js");
  const words = argv.filter((a) => !a.startsWith("-"));
  const path = [words.slice(0, 2).join(" "), words[0] ?? ""].find((p) => p in CONTRACTS);
  if (!path) {
    throw Object.assign(new Error(`--${request ? "request" : "response"}-schema: no command "${words.slice(0, 2).join(" ")}" (commands: ${Object.keys(CONTRACTS).join(", ")})`), { name: "InputError" });
  }
  const contract = CONTRACTS[path]!;
  const schema = jsonSchemaOf(request ? contract.request : contract.response, request ? "input" : "output");
  const jqAt = argv.indexOf("--jq");
  if (jqAt >= 0 && argv[jqAt + 1] !== undefined) {
    const { checkJq } = await import("./jq.js");
    await checkJq(argv[jqAt + 1]!);
    io().jq = argv[jqAt + 1];
  }
  const { printJson } = await import("./context.js");
  await printJson(schema);
  return true;
}

/**
 * Runs one grove command line (without the leading `node grove`) and returns its exit code.
 * With `target`, output and exit code go there instead of the process's stdout.
 */
export async function runCli(argv: string[], target?: CommandIO): Promise<number> {
  const run = async () => {
    try {
      if (await printSchema(argv)) return 0;
      await buildProgram().parseAsync(argv, { from: "user" });
      return target ? (target.exitCode ?? 0) : typeof process.exitCode === "number" ? process.exitCode : 0;
    } catch (err) {
      const code = handleError(err);
      if (target) target.exitCode = code;
      return code;
    }
  };
  return target ? withIO(target, run) : run();
}
