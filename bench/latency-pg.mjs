// latency-pg: enqueue → start latency on PostgreSQL, one task at a time: enqueue one, wait until it
// started, enqueue the next. One worker process is already running and idle (waiting on
// LISTEN/NOTIFY, or polling where the system has no wake-up). grove side by side with
// graphile-worker 0.16.6, pg-boss 10.4.2 and BullMQ 6.7.0 (PostgreSQL backend), all on one
// server (bench/pg-server.mjs), a fresh database per system and run. See docs/BENCHMARKS.md.
//
//   npm run bench -- latency-pg [--runs 3] [--tasks 1000] [--warmup 20] [--pgboss-tasks 200]
//                               [--only grove,graphile-worker,pg-boss,bullmq] [--sync-commit on|off]
//
// Latency = the time the worker's handler started (it records performance.timeOrigin +
// performance.now() first thing and sends it to the coordinator over IPC) minus the time just
// before the enqueue call (grove: `createTree` of a one-task tree through the SDK; graphile-worker:
// `graphile_worker.add_job()`, what addJob calls; pg-boss: `send()`; BullMQ: `queue.add()`).
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { emit, gitRevision, loadNote, median, note, percentile, round, runChild, snapshotBuild, tempDir } from "./lib.mjs";
import { startBenchPostgres } from "./pg-server.mjs";
import { ADAPTERS, SYSTEMS, VERSIONS, nowMs } from "./pg-systems.mjs";

const BENCH = "latency-pg";
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, "..", "..");
const BUILD = process.env.GROVE_BENCH_BUILD ?? ROOT;
const WAIT_MS = 30_000;

/** Each system's own default concurrency for its one worker (it runs one task at a time here anyway). */
const CONCURRENCY = { grove: 8, "graphile-worker": 1, "pg-boss": 1, bullmq: 1 };
const WAKEUP = {
  grove: "LISTEN/NOTIFY (grove_ready, sent by the createTree transaction); poll backstop 200 ms",
  "graphile-worker": "LISTEN/NOTIFY (jobs:insert trigger); pollInterval 2000 ms backstop",
  "pg-boss": "none: polling, pollingIntervalSeconds 0.5 (the minimum), batchSize 1",
  bullmq: "LISTEN/NOTIFY (PostgreSQL backend's blocking wait)",
};

// ---- child: one run of one system -------------------------------------------------------------

async function child([system, url, tasks, warmup]) {
  const adapter = ADAPTERS[system];
  const { dir, cleanup } = tempDir(`grove-bench-lat-${system}-`);
  let worker;
  let producer;
  try {
    producer = await adapter.open(url, { build: BUILD });
    const waiting = new Map();
    let failed = null;
    worker = adapter.worker(url, CONCURRENCY[system], { mode: "latency" }, dir, BUILD);
    worker.on("message", (m) => {
      if (m && typeof m.tag === "number") waiting.get(m.tag)?.(m.t);
    });
    worker.once("exit", (code, signal) => {
      failed = new Error(`${system} worker exited early (${signal ?? code})`);
      for (const w of waiting.values()) w(null);
    });
    const startOf = (tag) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${system}: task ${tag} not started within ${WAIT_MS} ms`)), WAIT_MS);
        waiting.set(tag, (t) => {
          clearTimeout(timer);
          waiting.delete(tag);
          if (t === null) reject(failed);
          else resolve(t);
        });
      });
    const once = async (tag) => {
      const started = startOf(tag);
      const t0 = nowMs();
      await producer.enqueueOne(tag);
      const t1 = nowMs();
      const t = await started;
      return { latency: t - t0, enqueue: t1 - t0 };
    };
    // Warm-up: the first one also waits for the worker to be up (connected, listening).
    let tag = 0;
    for (let i = 0; i < Number(warmup); i++) await once(tag++);
    // Then let it go idle, as a worker waiting for work would be.
    await new Promise((r) => setTimeout(r, 1000));
    const latency = [];
    const enqueue = [];
    for (let i = 0; i < Number(tasks); i++) {
      const r = await once(tag++);
      latency.push(r.latency);
      enqueue.push(r.enqueue);
    }
    worker.removeAllListeners("exit");
    emit({ latency, enqueue });
  } finally {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.removeAllListeners("exit");
      const gone = new Promise((r) => worker.once("exit", r));
      worker.kill("SIGTERM");
      const t = setTimeout(() => worker.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(t);
    }
    await producer?.close().catch(() => undefined);
    cleanup();
  }
}

// ---- parent -----------------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = { runs: 3, tasks: 1000, warmup: 20, pgbossTasks: 200, only: null, syncCommit: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") opts.runs = Number(argv[++i]);
    else if (a === "--tasks") opts.tasks = Number(argv[++i]);
    else if (a === "--warmup") opts.warmup = Number(argv[++i]);
    else if (a === "--pgboss-tasks") opts.pgbossTasks = Number(argv[++i]);
    else if (a === "--only") opts.only = new Set(argv[++i].split(","));
    else if (a === "--sync-commit") opts.syncCommit = argv[++i];
    else throw new Error(`latency-pg: unknown argument ${a}`);
  }
  for (const s of opts.only ?? []) if (!SYSTEMS.includes(s)) throw new Error(`latency-pg: unknown system ${s} (${SYSTEMS.join(", ")})`);
  if (opts.syncCommit && !["on", "off"].includes(opts.syncCommit)) throw new Error("latency-pg: --sync-commit on|off");
  return opts;
}

export async function main(argv = []) {
  const opts = parseArgs(argv);
  const systems = SYSTEMS.filter((s) => !opts.only || opts.only.has(s));
  // pg-boss polls (≥ 0.5 s): 1,000 sequential tasks would take ~5 minutes per run.
  const tasksOf = (s) => (s === "pg-boss" ? Math.min(opts.tasks, opts.pgbossTasks) : opts.tasks);
  const revision = gitRevision(ROOT);
  note(`latency-pg: ${opts.tasks} sequential tasks (pg-boss: ${tasksOf("pg-boss")}) after ${opts.warmup} warm-ups, one idle worker process, ${opts.runs} runs per system, fresh database per run; grove ${revision}`);
  loadNote("at start");
  const server = await startBenchPostgres({ log: note });
  const settings = { ...server.settings, ...(opts.syncCommit ? { synchronous_commit: `${opts.syncCommit} (ALTER DATABASE)` } : {}) };
  note(`server: ${JSON.stringify(settings)}`);
  const build = snapshotBuild(ROOT);
  const results = new Map(systems.map((s) => [s, []]));
  const broken = new Map();
  try {
    for (let run = 1; run <= opts.runs; run++) {
      for (const system of systems) {
        if (broken.has(system)) continue;
        const url = await server.createDatabase(`lat_${system}`, { synchronousCommit: opts.syncCommit });
        try {
          const r = await runChild(SELF, ["--child", system, url, String(tasksOf(system)), String(opts.warmup)], { cwd: ROOT, env: { ...process.env, GROVE_BENCH_BUILD: build.root } });
          results.get(system).push(r);
          const p = (q) => String(round(percentile(r.latency, q), 2)).padStart(8);
          note(`  run ${run} ${system.padEnd(16)} enqueue→start p50 ${p(50)} ms  p95 ${p(95)} ms  p99 ${p(99)} ms  max ${round(Math.max(...r.latency), 1)} ms  (enqueue call p50 ${round(percentile(r.enqueue, 50), 2)} ms)`);
        } catch (err) {
          broken.set(system, err);
          note(`  ${system} failed, dropped from this run: ${err.message}`);
        } finally {
          await server.dropDatabase(url).catch(() => undefined);
        }
      }
    }
  } finally {
    build.cleanup();
    await server.stop();
  }
  loadNote("at end");

  const rows = [];
  for (const system of systems) {
    const rs = results.get(system);
    if (rs.length === 0) continue;
    const all = rs.flatMap((r) => r.latency);
    const common = {
      version: system === "grove" ? revision : VERSIONS[system],
      tasks: rs[0].latency.length,
      concurrency: CONCURRENCY[system],
      wakeup: WAKEUP[system],
      enqueue_call_p50_ms: round(median(rs.map((r) => percentile(r.enqueue, 50))), 2),
      server: settings,
      grove_revision: revision,
    };
    for (const q of [50, 95, 99]) {
      const runs = rs.map((r) => percentile(r.latency, q));
      rows.push({ bench: BENCH, system, metric: `enqueue_to_start_p${q}_ms`, median: round(median(runs), 2), unit: "ms", runs: runs.map((v) => round(v, 2)), pooled: round(percentile(all, q), 2), ...common });
    }
    const maxes = rs.map((r) => Math.max(...r.latency));
    rows.push({ bench: BENCH, system, metric: "enqueue_to_start_max_ms", median: round(median(maxes), 2), unit: "ms", runs: maxes.map((v) => round(v, 2)), ...common });
  }
  for (const row of rows) emit(row);
  for (const [s, err] of broken) note(`NOTE: ${s} did not complete: ${err.message}`);
  const g50 = rows.find((r) => r.system === "grove" && r.metric === "enqueue_to_start_p50_ms");
  const g99 = rows.find((r) => r.system === "grove" && r.metric === "enqueue_to_start_p99_ms");
  if (g50 && g99) {
    note(`targets: grove p50 ≤ 5 ms: ${g50.median <= 5 ? "met" : "NOT met"} (${g50.median} ms); p99 ≤ 20 ms: ${g99.median <= 20 ? "met" : "NOT met"} (${g99.median} ms)`);
  }
}

const isMain = process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") {
    child(argv.slice(1)).then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`${err.stack ?? err}\n`);
        process.exit(1);
      },
    );
  } else {
    main(argv).catch((err) => {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exit(1);
    });
  }
}
