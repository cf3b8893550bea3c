#!/usr/bin/env node
// The `grove` executable. `--version` is answered before anything else is loaded: scripts call
// it often, and building the command tree costs more than the answer. This one file is CommonJS
// because Node 20 starts its ESM loader for an ESM entry point, ~20 ms more than `node -e 0`
// (bench cli-startup); everything else is ESM, loaded with import() below.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
  process.stdout.write(`${pkg.version}\n`);
} else {
  import("./program.js").then(
    async ({ runCli }) => {
      process.exitCode = await runCli(argv);
    },
    (err: unknown) => {
      process.stderr.write(`grove: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
