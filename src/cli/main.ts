#!/usr/bin/env node
// The `grove` executable. `--version` is answered before anything else is imported: scripts
// call it often, and building the command tree costs more than the answer.
import { readFileSync } from "node:fs";

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  process.stdout.write(`${pkg.version}\n`);
} else {
  const { runCli } = await import("./program.js");
  process.exitCode = await runCli(argv);
}
