import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Where a command writes. Normally the process's stdout; when a command is dispatched in-process
 * (a schedule firing a grove argv), the dispatcher captures its output and exit code instead.
 */
export interface CommandIO {
  stdout: { write(chunk: string): unknown; isTTY?: boolean; columns?: number; rows?: number };
  stderr?: { write(chunk: string): unknown };
  exitCode?: number;
  /** `--jq` filter of the running command. */
  jq?: string;
}

const storage = new AsyncLocalStorage<CommandIO>();

export function io(): CommandIO {
  return storage.getStore() ?? processIO;
}

const processIO: CommandIO & { jq?: string } = {
  jq: undefined,
  get stdout() {
    return process.stdout;
  },
  get exitCode() {
    return typeof process.exitCode === "number" ? process.exitCode : undefined;
  },
  set exitCode(code: number | undefined) {
    process.exitCode = code;
  },
};

export function write(text: string): void {
  io().stdout.write(text);
}

export function writeErr(text: string): void {
  (io().stderr ?? process.stderr).write(text);
}

export function setExitCode(code: number): void {
  io().exitCode = code;
}

/** Runs `fn` with its command output going to `target`. */
export function withIO<T>(target: CommandIO, fn: () => Promise<T>): Promise<T> {
  return storage.run(target, fn);
}
