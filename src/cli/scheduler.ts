// `grove scheduler`: the schedules daemon (DESIGN §7), until SIGTERM / SIGINT.
import type { RunOutcome } from "../schedules/fire.js";
import type { ClaimedRun, ScheduleRun } from "../schedules/model.js";
import { Scheduler } from "../schedules/scheduler.js";
import { schedulesOf } from "../store/schedule-store.js";
import { openGrove } from "./context.js";
import { io, write, writeErr } from "./io.js";
import type { GlobalOptions } from "./program.js";
import { dbSpec } from "./schedules.js";

interface SchedulerOpts extends GlobalOptions {
  concurrency: number;
  leaseMs?: number;
  graceMs: number;
  allowPrivateNetwork?: boolean;
}

export async function schedulerCommand(opts: SchedulerOpts): Promise<void> {
  const grove = await openGrove(opts);
  const schedules = schedulesOf(grove.store);
  let closed = false;
  if (io().stdout === process.stdout) process.stdout.on("error", () => (closed = true));
  let runner = "";
  const say = (line: Record<string, unknown>, text: string) => {
    if (closed) return;
    write(opts.json ? `${JSON.stringify({ at: new Date().toISOString(), scheduler: runner, ...line })}\n` : `${new Date().toISOString().slice(11, 23)} ${text}\n`);
  };
  const ident = (r: ScheduleRun) => ({ schedule: r.name, version: r.version, owner: r.owner, run_id: r.id });
  const scheduler = new Scheduler({
    store: grove.store,
    schedules,
    scope: grove.scope,
    leaseMs: opts.leaseMs,
    concurrency: opts.concurrency,
    graceMs: opts.graceMs,
    db: dbSpec(opts),
    executorModules: opts.executors,
    executors: grove.registry.list(),
    settings: opts.allowPrivateNetwork ? { allowPrivateNetwork: true } : undefined,
    onStart: (c: ClaimedRun) => say({ event: "fired", ...ident(c.run), due_at: new Date(c.run.due_at).toISOString() }, `fired      ${c.run.name} v${c.run.version} run ${c.run.id}`),
    onFinish: (c: ClaimedRun, o: RunOutcome) =>
      say(
        { event: "finished", ...ident(c.run), success: o.success, status: o.status, error: o.error },
        `${o.status.padEnd(10)} ${c.run.name} v${c.run.version} run ${c.run.id}${o.error ? `: ${o.error.type}: ${o.error.message}` : ""}`,
      ),
    onAbandoned: (runs: ScheduleRun[]) => {
      for (const r of runs) say({ event: "abandoned", ...ident(r), error: r.error }, `abandoned  ${r.name} v${r.version} run ${r.id}: ${r.error?.message ?? ""}`);
    },
    onWarning: (m: string) => writeErr(`grove: ${m}\n`),
    onError: (err: unknown) => writeErr(`grove: scheduler: ${(err as Error).message ?? String(err)}\n`),
  });
  runner = scheduler.runner;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    say({ event: "stopping", signal: sig }, `stopping on ${sig}: runs in flight get ${opts.graceMs} ms, then are recorded as abandoned`);
    scheduler.stop();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  say({ event: "ready", scope: grove.scope, store: grove.store.kind }, `scheduler ${runner} ready (scope ${grove.scope || "everything"}, store ${grove.store.kind})`);
  try {
    await scheduler.run();
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    await grove.close();
  }
  say({ event: "stopped" }, "scheduler stopped");
  if (!closed) await new Promise<void>((r) => process.stdout.write("", () => r()));
  // Targets given up at the end may still hold timers or child processes: they must not go on.
  process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
}
