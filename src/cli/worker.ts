import { InputError } from "../core/errors.js";
import { write } from "./io.js";
import type { GroveEvent } from "../core/types.js";
import { Runner } from "../engine/runner.js";
import { openGrove, printJsonLine } from "./context.js";
import type { GlobalOptions } from "./program.js";

interface WorkerOpts extends GlobalOptions {
  concurrency: number;
  labels?: string;
  leaseMs?: number;
  graceMs: number;
  allowPrivateNetwork?: boolean;
}

/** `k=v,k2=v2` → {k: "v", k2: "v2"}. */
export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    if (eq < 1 || eq === pair.length - 1) throw new InputError(`--labels ${text}: expected k=v[,k=v…], got "${pair}"`, "labels");
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/**
 * `grove worker`: claims ready tasks of any tree in the store (placement permitting), until
 * SIGTERM/SIGINT; then it stops claiming, lets in-flight tasks finish for `--grace-ms`, and hands
 * the rest back so another worker takes them at once.
 */
export async function workerCommand(opts: WorkerOpts): Promise<void> {
  const labels = parseLabels(opts.labels);
  const grove = await openGrove(opts);
  const runner = new Runner({
    store: grove.store,
    registry: grove.registry,
    concurrency: opts.concurrency,
    labels,
    leaseMs: opts.leaseMs ?? (process.env.GROVE_LEASE_MS ? Number(process.env.GROVE_LEASE_MS) : undefined),
    settings: opts.allowPrivateNetwork ? { allowPrivateNetwork: true, outputCapBytes: 1024 * 1024 } : undefined,
  });
  // JSON lines go through printJsonLine (for --jq) in order, even though it is async.
  let printed = Promise.resolve();
  const say = (line: Record<string, unknown>, text: string) => {
    if (!opts.json) return void write(`${new Date().toISOString().slice(11, 23)} ${text}\n`);
    const item = { at: new Date().toISOString(), worker: runner.workerId, ...line };
    printed = printed.then(() => printJsonLine(item)).catch(() => undefined);
  };
  const names = new Map<string, string>();
  const off = grove.store.bus.on((e: GroveEvent) => {
    if (!e.task_id) return;
    const d = e.data as { name?: string; worker?: string; attempt?: number; error?: { type: string; message: string } };
    if (e.type === "task.started" && d.worker === runner.workerId) {
      names.set(e.task_id, d.name ?? e.task_id);
      say({ event: "started", task_id: e.task_id, name: d.name, attempt: d.attempt }, `started    ${d.name} (${e.task_id})`);
    } else if (names.has(e.task_id) && (e.type === "task.completed" || e.type === "task.failed" || e.type === "task.retrying" || e.type === "task.cancelled" || e.type === "task.waiting_approval")) {
      const name = names.get(e.task_id);
      names.delete(e.task_id);
      const what = e.type.slice(5);
      if (what === "waiting_approval") {
        const command = (e.data.request as { command?: string } | undefined)?.command;
        say({ event: what, task_id: e.task_id, name, command }, `waiting    ${name} for approval of: ${command} (grove tasks approve ${e.task_id})`);
      } else say({ event: what, task_id: e.task_id, name, error: d.error }, `${what.padEnd(10)} ${name}${d.error ? `: ${d.error.type}: ${d.error.message}` : ""}`);
    }
  });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    say({ event: "stopping", signal: sig }, `stopping on ${sig}: finishing in-flight tasks (up to ${opts.graceMs} ms), then handing the rest back`);
    runner.stop({ graceMs: opts.graceMs });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  const labelText = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",") || "none";
  say({ event: "ready", concurrency: opts.concurrency, labels }, `worker ${runner.workerId} ready (concurrency ${opts.concurrency}, labels ${labelText}, store ${grove.store.kind})`);
  try {
    await runner.run();
  } finally {
    off();
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    await grove.close();
  }
  say({ event: "stopped" }, "worker stopped");
  await printed;
  // Work handed back may still have timers or sockets of executors that ignored their abort
  // signal: they must not keep running (and causing side effects) after the hand-back.
  process.exit(process.exitCode ?? 0);
}
