import { Grove } from "../client/local.js";
import { write } from "./io.js";
import { loadExecutors } from "./load-executors.js";
import type { GlobalOptions } from "./program.js";

/** The Grove instance a command works with, from the global flags. */
export async function openGrove(opts: GlobalOptions & { leaseMs?: number; allowPrivateNetwork?: boolean }): Promise<Grove> {
  const executors = await loadExecutors(opts.executors);
  const settings = opts.allowPrivateNetwork ? { allowPrivateNetwork: true } : {};
  return Grove.local({ db: opts.db, scope: opts.as, executors, leaseMs: opts.leaseMs, settings });
}

export function printJson(value: unknown): void {
  write(`${JSON.stringify(value, null, 2)}\n`);
}
