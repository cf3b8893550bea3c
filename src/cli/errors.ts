import { CommanderError } from "commander";
import { writeErr } from "./io.js";

/**
 * Turns any error into one line on stderr and an exit code (DESIGN §10): 2 for bad input,
 * 1 otherwise. A stack trace only with GROVE_DEBUG=1.
 */
export function handleError(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0; commander already printed its message.
    if (err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
    if (err.code === "grove.invalidArgument") writeErr(`grove: ${err.message}\n`);
    return 2;
  }
  const e = err as Error & { name?: string };
  if (process.env.GROVE_DEBUG === "1" && e?.stack) writeErr(`${e.stack}\n`);
  const message = oneLine(e?.message ?? String(err));
  writeErr(`grove: ${message}\n`);
  return e?.name === "InputError" ? 2 : 1;
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}
