import { Option, type Command } from "commander";
import type { CommandHelpers } from "./schedule-commands.js";

/**
 * `grove serve`, `grove keys create|list|revoke`, `grove schedules webhook` and `grove mcp`
 * (the HTTP API, its credentials and MCP). Actions import their modules lazily.
 */
export function registerServerCommands(program: Command, h: CommandHelpers): void {
  const { withGlobals, positiveInt } = h;
  const nonNegative = (flag: string) => (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw Object.assign(new Error(`${flag} must be a non-negative integer, got "${v}"`), { name: "InputError" });
    return n;
  };

  withGlobals(
    program
      .command("serve")
      .description("serve the HTTP API: JSON-RPC at POST /rpc, SSE at GET /trees/:id/events, webhooks, MCP at /mcp (see docs/server.md)")
      .option("--port <n>", "TCP port", nonNegative("--port"), 8420)
      .option("--host <addr>", "address to listen on", "127.0.0.1")
      .option("--concurrency <n>", "tasks at once per tree run by tasks.execute", positiveInt("--concurrency"), 8)
      .option("--worker-concurrency <n>", "tasks at once of the server's worker, which runs stored trees (0: no worker)", nonNegative("--worker-concurrency"), 8)
      .addOption(new Option("--lease-ms <ms>", "task lease length").argParser(positiveInt("--lease-ms")))
      .option("--jwt-secret-file <file>", "accept HS256 JWTs signed with the secret in this file (or GROVE_JWT_SECRET)")
      .option("--jwt-public-key <file>", "accept RS256 JWTs verified with this PEM public key")
      .option("--jwt-scope-claim <claim>", "the JWT claim holding the caller's scope", "grove_scope")
      .option("--jwt-issuer <iss>", "required JWT issuer")
      .option("--jwt-audience <aud>", "required JWT audience")
      .option("--rate-limit <n>", "requests per second per credential (0: unlimited)", nonNegative("--rate-limit"), 50)
      .option("--burst <n>", "requests a credential may make at once", positiveInt("--burst"), 100)
      .option("--body-limit <bytes>", "largest request body", positiveInt("--body-limit"), 1024 * 1024)
      .option("--webhooks <file>", "outbound event webhooks: a JSON array of {url, secret, events}")
      .option("--allow-private-network", "let http tasks and event webhooks reach loopback and private addresses")
      .option("--no-mcp", "do not serve MCP at /mcp")
      .option("--log", "log each request (JSON lines on stdout, no headers or bodies)"),
  ).action(async (opts) => (await import("./serve.js")).serveCommand(opts));

  const keys = program.command("keys").description("API keys of grove serve (stored hashed; a key is printed once)");
  withGlobals(keys.command("create").description("create an API key acting in a scope"))
    .option("--scope <scope>", 'the owner scope the key acts as ("/" for every scope)')
    .option("--name <name>", "a label for the key")
    .action(async (opts) => (await import("./keys.js")).createKeyCommand(opts));
  withGlobals(keys.command("list").description("every API key (never the keys themselves)"))
    .action(async (opts) => (await import("./keys.js")).listKeysCommand(opts));
  withGlobals(keys.command("revoke").description("revoke an API key by id or name").argument("<key>", "key id or name"))
    .action(async (key: string, opts) => (await import("./keys.js")).revokeKeyCommand(key, opts));

  const schedules = program.commands.find((c) => c.name() === "schedules");
  if (schedules) {
    withGlobals(schedules.command("webhook").description("the signed webhook that fires a schedule: POST /hooks/schedules/NAME (prints its secret)").argument("<name>"))
      .option("--rotate", "replace the secret (the old one stops working)")
      .action(async (name: string, opts) => (await import("./keys.js")).webhookCommand(name, opts));
  }

  withGlobals(program.command("mcp").description("serve grove's operations as MCP tools over stdio (run trees, read results, list tasks, cancel, schedules)"))
    .option("--concurrency <n>", "tasks at once per tree run", positiveInt("--concurrency"), 8)
    .option("--allow-private-network", "let http tasks reach loopback and private addresses")
    .action(async (opts) => (await import("./mcp.js")).mcpCommand(opts));
}
