import type { Command } from "commander";
import type { CommandHelpers } from "./schedule-commands.js";

/** `grove agent run` (DESIGN §9). Registered on the program by program.ts; the action imports its module lazily. */
export function registerAgentCommands(program: Command, h: CommandHelpers): void {
  const agent = program.command("agent").description("the AI agent: reach a goal by running shell commands under a command policy");
  h.withGlobals(
    agent
      .command("run")
      .description("run the agent toward PROMPT and print its events and result (exit 0 completed, 1 failed or waiting for approval, 2 bad input)")
      .argument("<prompt>", "the goal, in natural language")
      .option("--model <provider:model>", "openai:gpt-4.1, anthropic:…, openai-compatible:NAME, ollama:NAME (default GROVE_MODEL)")
      .option("--machine <name>", "where commands run (default local)")
      .option("--output-schema <json>", "JSON Schema of the output, as JSON or @FILE (default {success, summary})")
      .option("--context <json>", "facts for the model, a JSON object or @FILE")
      .option("--restrictions <json>", 'restrictions as JSON or @FILE: {"no_sudo":true,"no_delete":true,"dry_run":true,"allowed_dirs":[…],"read_only_dirs":[…],"forbidden_commands":[…],"require_approval":[…]}')
      .option("--approval <mode>", "never | on_risk | always: when a human approves commands (asked on the terminal)", "never")
      .option("--max-retries <n>", "re-asks of a final answer that does not match the schema", (v: string) => Number(v))
      .option("--max-steps <n>", "model calls at most", h.positiveInt("--max-steps"))
      .option("--timeout <duration>", "whole-run limit: 30s, 5m, 500ms (a bare number is seconds)")
      .option("--cwd <dir>", "working directory of the commands (default: the current one)"),
  ).action(async (prompt: string, opts) => (await import("./agent.js")).agentRunCommand(prompt, opts));
}
