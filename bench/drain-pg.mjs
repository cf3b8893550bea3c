// drain-pg: N no-op tasks drained by 4 worker processes sharing one PostgreSQL, grove side by side
// with graphile-worker 0.16.6, pg-boss 10.4.2 and BullMQ 6.7.0 (PostgreSQL backend). One server
// for the whole run (bench/pg-server.mjs); every system gets a fresh database per run. See
// docs/BENCHMARKS.md.
//
//   npm run bench -- drain-pg [--runs 3] [--tasks 50000] [--trees 50] [--workers 4] [--concurrency 16]
//                             [--only grove,graphile-worker,pg-boss,bullmq] [--sync-commit on|off]
//                             [--pgboss-batch 1000] [--pgboss-loops 1] [--analyze] [--profile]
//
// Each run is a fresh coordinator process (`--child`): it enqueues the tasks (timed: enqueue),
// then starts the worker processes and watches the database until every task is completed
// (timed: drain, from spawning the workers to the last completion seen), stops the workers and
// checks that every task ran exactly once. --analyze runs ANALYZE between enqueue and drain (the
// database is fresh, so the planner's statistics are those of empty tables until autovacuum
// comes by).
import { readdirSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { emit, gitRevision, loadNote, median, note, round, runChild, snapshotBuild, summarizeCpuProfile, summarizeCpuProfileByFile, tempDir } from "./lib.mjs";
import { processCpuMs, serverCpuMs, startBenchPostgres } from "./pg-server.mjs";
import { ADAPTERS, SYSTEMS, VERSIONS, nowMs } from "./pg-systems.mjs";

const BENCH = "drain-pg";
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, "..", "..");
const BUILD = process.env.GROVE_BENCH_BUILD ?? ROOT;
const POLL_MS = 5;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- child: one run of one system -------------------------------------------------------------

/** Batch sizes that add up to n: `batches` calls (grove: one tree each). */
function batchSizes(n, batches) {
  const b = Math.max(1, Math.min(batches, n));
  return Array.from({ length: b }, (_, i) => Math.floor(n / b) + (i < n % b ? 1 : 0));
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode);
    child.once("exit", (code, signal) => resolve(code ?? signal));
  });
}

async function stopWorkers(workers) {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGTERM");
  const all = Promise.all(workers.map(exited));
  const timer = setTimeout(() => workers.forEach((w) => w.exitCode === null && w.signalCode === null && w.kill("SIGKILL")), 15_000);
  await all;
  clearTimeout(timer);
}

export async function drainOnce({ system, url, tasks, batches, workers: nWorkers, concurrency, opts, build, workerExecArgv = [] }) {
  const adapter = ADAPTERS[system];
  const { dir, cleanup } = tempDir(`grove-bench-${system}-`);
  const mon = new pg.Client({ connectionString: url });
  const workers = [];
  try {
    const producer = await adapter.open(url, { build });
    const sizes = batchSizes(tasks, batches);
    const t0 = performance.now();
    for (let i = 0; i < sizes.length; i++) await producer.enqueueBatch(sizes[i], i);
    const enqueueMs = performance.now() - t0;
    await producer.close();
    await mon.connect();
    // --analyze: fresh planner statistics before draining (untimed), for every system alike.
    if (opts.analyze) await mon.query("ANALYZE");

    const firsts = [];
    const counts = new Map();
    let failed = null;
    const pgPid = Number(process.env.GROVE_BENCH_PG_PID) || null;
    const cpu0 = pgPid ? serverCpuMs(pgPid) : null;
    const tSpawn = nowMs();
    for (let i = 0; i < nWorkers; i++) {
      const w = adapter.worker(url, concurrency, { ...opts, mode: "drain" }, dir, build, workerExecArgv);
      w.on("message", (m) => {
        if (m?.first) firsts.push(m.first);
        if (typeof m?.count === "number") counts.set(w, m.count);
      });
      w.once("exit", (code, signal) => (failed ??= new Error(`${system} worker ${w.pid} exited early (${signal ?? code})`)));
      workers.push(w);
    }
    // The database is read often only once the workers have run every job (they report their
    // counts over IPC), and otherwise once a second: counting a 50,000-row table every few ms
    // would load the server the systems share with the monitor.
    const deadline = Date.now() + 15 * 60_000;
    let tDone;
    let lastCheck = 0;
    for (;;) {
      const ran = [...counts.values()].reduce((a, b) => a + b, 0);
      if (ran >= tasks || Date.now() - lastCheck >= 1000) {
        lastCheck = Date.now();
        const left = await adapter.remaining(mon);
        if (left === 0) {
          tDone = nowMs();
          break;
        }
      }
      if (failed) throw failed;
      if (Date.now() > deadline) throw new Error(`${system}: not completed after 15 min`);
      await sleep(ran >= tasks ? POLL_MS : 10);
    }
    const serverCpu = pgPid ? serverCpuMs(pgPid) - cpu0 : null;
    const workersCpu = workers.map((w) => processCpuMs(w.pid)).reduce((a, b) => (a === null || b === null ? null : a + b), 0);
    for (const w of workers) w.removeAllListeners("exit");
    await stopWorkers(workers);
    await adapter.verify(mon, tasks);
    return {
      tasks,
      enqueue_ms: enqueueMs,
      drain_ms: tDone - tSpawn,
      first_start_ms: firsts.length ? Math.min(...firsts) - tSpawn : null,
      workers_used: firsts.length,
      // CPU from spawning the workers to the last completion: the server's processes (embedded
      // server only) and the worker processes (their start-up included).
      server_cpu_ms: serverCpu,
      workers_cpu_ms: workersCpu,
    };
  } finally {
    for (const w of workers) w.removeAllListeners("exit");
    await stopWorkers(workers).catch(() => undefined);
    await mon.end().catch(() => undefined);
    cleanup();
  }
}

async function child([system, url, tasks, batches, workers, concurrency, optsJson]) {
  const r = await drainOnce({ system, url, tasks: Number(tasks), batches: Number(batches), workers: Number(workers), concurrency: Number(concurrency), opts: JSON.parse(optsJson), build: BUILD });
  emit(r);
}

// ---- parent -----------------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = { runs: 3, tasks: 50_000, trees: 50, workers: 4, concurrency: 16, only: null, syncCommit: null, pgbossBatch: 1000, pgbossLoops: 1, profile: false, analyze: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") opts.runs = Number(argv[++i]);
    else if (a === "--tasks") opts.tasks = Number(argv[++i]);
    else if (a === "--trees") opts.trees = Number(argv[++i]);
    else if (a === "--workers") opts.workers = Number(argv[++i]);
    else if (a === "--concurrency") opts.concurrency = Number(argv[++i]);
    else if (a === "--only") opts.only = new Set(argv[++i].split(","));
    else if (a === "--sync-commit") opts.syncCommit = argv[++i];
    else if (a === "--pgboss-batch") opts.pgbossBatch = Number(argv[++i]);
    else if (a === "--pgboss-loops") opts.pgbossLoops = Number(argv[++i]);
    else if (a === "--profile") opts.profile = true;
    else if (a === "--analyze") opts.analyze = true;
    else throw new Error(`drain-pg: unknown argument ${a}`);
  }
  for (const s of opts.only ?? []) if (!SYSTEMS.includes(s)) throw new Error(`drain-pg: unknown system ${s} (${SYSTEMS.join(", ")})`);
  if (opts.syncCommit && !["on", "off"].includes(opts.syncCommit)) throw new Error("drain-pg: --sync-commit on|off");
  return opts;
}

const cpuUs = (ms, n) => (ms === null || ms === undefined ? "-" : round((ms * 1000) / n));

const peerOpts = (opts) => ({ pgbossBatch: opts.pgbossBatch, pgbossLoops: opts.pgbossLoops, analyze: opts.analyze });

/**
 * --profile: one grove drain with a V8 CPU profile of every worker and pg_stat_statements on the
 * server; summaries on stderr.
 */
async function profile(opts) {
  const server = await startBenchPostgres({ log: note, preload: ["pg_stat_statements"] });
  const build = snapshotBuild(ROOT);
  const { dir, cleanup } = tempDir("grove-bench-prof-");
  try {
    const url = await server.createDatabase("grove_prof", { synchronousCommit: opts.syncCommit });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    // Needs shared_preload_libraries (set on the embedded server; an external one may lack it).
    const stats = await c.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").then(
      () => c.query("SELECT pg_stat_statements_reset()").then(() => true),
      (err) => (note(`pg_stat_statements unavailable: ${err.message}`), false),
    );
    // What the workers' connections wait on, sampled every 10 ms while they drain.
    const waits = new Map();
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      const s = new pg.Client({ connectionString: url });
      await s.connect();
      while (sampling) {
        const { rows } = await s.query(
          "SELECT state || coalesce(' / ' || wait_event_type || ':' || wait_event, '') AS w, count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'grove' AND pid <> pg_backend_pid() GROUP BY 1",
        );
        samples++;
        for (const r of rows) waits.set(r.w, (waits.get(r.w) ?? 0) + r.n);
        await sleep(10);
      }
      await s.end();
    })();
    const r = await drainOnce({
      system: "grove", url, tasks: opts.tasks, batches: opts.trees, workers: opts.workers, concurrency: opts.concurrency, opts: peerOpts(opts), build: build.root,
      workerExecArgv: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
    }).finally(() => (sampling = false));
    await sampler;
    note(`\n# grove drain with profiling: ${r.tasks} tasks, enqueue ${round(r.enqueue_ms)} ms, drain ${round(r.drain_ms)} ms (profiling slows both)`);
    const stmts = !stats ? { rows: [] } : await c.query(`
      SELECT calls, round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms, rows,
             regexp_replace(left(query, 110), '\\s+', ' ', 'g') AS query
      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY total_exec_time DESC LIMIT 20`);
    note("\npg_stat_statements, top 20 by total execution time (server side; excludes commit/WAL flush waits):");
    for (const s of stmts.rows) note(`  ${String(s.total_ms).padStart(9)} ms  ${String(s.calls).padStart(7)} calls  ${String(s.mean_ms).padStart(8)} ms/call  ${String(s.rows).padStart(7)} rows  ${s.query}`);
    note(`\nworkers' pool connections (application_name grove), ${samples} samples of pg_stat_activity: average connections per state / wait event ("idle in transaction / Client:ClientRead" = the server waits for the worker inside a transaction)`);
    for (const [w, n] of [...waits].sort((a, b) => b[1] - a[1])) note(`  ${(n / samples).toFixed(2).padStart(6)}  ${w}`);
    const wal = await c.query("SELECT wal_records, wal_bytes, wal_sync, wal_write FROM pg_stat_wal").catch(() => ({ rows: [] }));
    if (wal.rows[0]) note(`pg_stat_wal (whole server): ${JSON.stringify(wal.rows[0])}`);
    await c.end();
    const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
    for (const f of files) {
      note(`\ncpu profile of worker ${f}: top self time by function`);
      for (const x of summarizeCpuProfile(join(dir, f), 25)) note(`  ${String(x.pct).padStart(5)}%  ${String(x.self_ms).padStart(8)} ms  ${x.fn}`);
      note("self time by file:");
      for (const x of summarizeCpuProfileByFile(join(dir, f), 12)) note(`  ${String(x.pct).padStart(5)}%  ${String(x.self_ms).padStart(8)} ms  ${x.file}`);
      if (opts.workers > 1) break; // the workers look alike; one is enough
    }
  } finally {
    cleanup();
    build.cleanup();
    await server.stop();
  }
}

export async function main(argv = []) {
  const opts = parseArgs(argv);
  if (opts.profile) return profile(opts);
  const systems = SYSTEMS.filter((s) => !opts.only || opts.only.has(s));
  const revision = gitRevision(ROOT);
  note(`drain-pg: ${opts.tasks} no-op tasks (grove: ${opts.trees} trees), ${opts.workers} worker processes × concurrency ${opts.concurrency}, ${opts.runs} runs per system, fresh database per run; grove ${revision}`);
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
        const url = await server.createDatabase(system, { synchronousCommit: opts.syncCommit });
        try {
          const args = ["--child", system, url, String(opts.tasks), String(opts.trees), String(opts.workers), String(opts.concurrency), JSON.stringify(peerOpts(opts))];
          const r = await runChild(SELF, args, { cwd: ROOT, env: { ...process.env, GROVE_BENCH_BUILD: build.root, GROVE_BENCH_PG_PID: String(server.pid ?? "") } });
          results.get(system).push(r);
          note(`  run ${run} ${system.padEnd(16)} enqueue ${String(round(r.enqueue_ms)).padStart(8)} ms  drain ${String(round(r.drain_ms)).padStart(8)} ms  (first task started at ${round(r.first_start_ms ?? NaN)} ms, ${r.workers_used}/${opts.workers} workers ran tasks)  ${round((r.tasks * 1000) / r.drain_ms)} tasks/s  CPU per task: server ${cpuUs(r.server_cpu_ms, r.tasks)} µs, workers ${cpuUs(r.workers_cpu_ms, r.tasks)} µs`);
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
    const metrics = {
      drain_tasks_per_s: rs.map((r) => (r.tasks * 1000) / r.drain_ms),
      drain_after_first_start_tasks_per_s: rs.map((r) => (r.tasks * 1000) / (r.drain_ms - (r.first_start_ms ?? 0))),
      enqueue_tasks_per_s: rs.map((r) => (r.tasks * 1000) / r.enqueue_ms),
    };
    for (const [metric, runs] of Object.entries(metrics)) {
      rows.push({
        bench: BENCH,
        system,
        metric,
        median: round(median(runs)),
        unit: "tasks/s",
        runs: runs.map((v) => round(v)),
        version: system === "grove" ? revision : VERSIONS[system],
        tasks: rs[0].tasks,
        workers: opts.workers,
        ...ADAPTERS[system].settings(opts.concurrency, opts),
        ...(system === "grove" ? { trees: opts.trees } : {}),
        enqueue_ms_median: round(median(rs.map((r) => r.enqueue_ms))),
        drain_ms_median: round(median(rs.map((r) => r.drain_ms))),
        first_start_ms_median: round(median(rs.map((r) => r.first_start_ms ?? NaN))),
        server_cpu_us_per_task: rs[0].server_cpu_ms === null ? null : round(median(rs.map((r) => (r.server_cpu_ms * 1000) / r.tasks))),
        workers_cpu_us_per_task: rs[0].workers_cpu_ms === null ? null : round(median(rs.map((r) => (r.workers_cpu_ms * 1000) / r.tasks))),
        server: settings,
        analyze_before_drain: opts.analyze,
        grove_revision: revision,
      });
    }
  }
  for (const row of rows) {
    if (row.system !== "grove") continue;
    for (const peer of systems.filter((s) => s !== "grove")) {
      const p = rows.find((r) => r.system === peer && r.metric === row.metric);
      if (p) row[`ratio_vs_${peer}`] = round(row.median / p.median);
    }
  }
  for (const row of rows) emit(row);
  for (const [s, err] of broken) note(`NOTE: ${s} did not complete: ${err.message}`);
  const g = rows.find((r) => r.system === "grove" && r.metric === "drain_tasks_per_s");
  if (g && g["ratio_vs_graphile-worker"] !== undefined) {
    const ratio = g["ratio_vs_graphile-worker"];
    note(`target (drain ≥ 1.0× graphile-worker, same run): ${ratio >= 1 ? "met" : "NOT met"} (${ratio}×: grove ${g.median} tasks/s)`);
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
