// drain-sqlite: enqueue N no-op tasks on a fresh SQLite file and drain them, grove side by side
// with plainjob and plainjobs (both better-sqlite3 job queues). Every run is a fresh child
// process with a fresh database in a temp dir, so peak RSS is per run. See docs/BENCHMARKS.md.
//
//   npm run bench -- drain-sqlite [--runs 5] [--tasks 20000] [--only grove,plainjob] [--profile]
//
// Child mode (one run, one JSON line on stdout):
//   node bench/drain-sqlite.mjs --child <grove|plainjob|plainjobs> <flat|fanout> <concurrency> <tasks>
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readdirSync } from "node:fs";
import { emit, gitRevision, loadNote, snapshotBuild, median, note, peakRssMb, round, runChild, summarizeCpuProfile, summarizeCpuProfileByFile, tempDir } from "./lib.mjs";

const BENCH = "drain-sqlite";
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, "..", "..");
// Children import grove from a snapshot of dist/ taken when the run starts (see snapshotBuild).
const BUILD = process.env.GROVE_BENCH_BUILD ?? ROOT;
const GROUPS = 100;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

// ---- child: one run ---------------------------------------------------------------------------

/** The grove tree for a shape: a single explicit root so grove adds no `aggregate` root. */
function groveTree(shape, n) {
  const tasks = [{ name: "root", executor: "noop", inputs: {} }];
  if (shape === "flat") {
    for (let i = 0; i < n; i++) tasks.push({ name: `t${i}`, executor: "noop", inputs: {}, parent: "root" });
  } else if (shape === "fanout") {
    const per = Math.ceil(n / GROUPS);
    for (let g = 0; g < GROUPS; g++) tasks.push({ name: `g${g}`, executor: "noop", inputs: {}, parent: "root" });
    for (let i = 0; i < n; i++) tasks.push({ name: `l${i}`, executor: "noop", inputs: {}, parent: `g${Math.floor(i / per)}` });
  } else {
    throw new Error(`unknown shape ${shape}`);
  }
  return { name: `drain-${shape}`, tasks };
}

async function childGrove(dbPath, shape, concurrency, n) {
  const { Grove, defineExecutor } = await import(pathToFileURL(join(BUILD, "dist", "index.js")).href);
  const noop = defineExecutor({ id: "noop", input: { type: "object" }, execute: async () => null });
  const grove = await Grove.local({ db: dbPath, executors: [noop], concurrency });
  const doc = groveTree(shape, n);
  const t0 = performance.now();
  const tree = await grove.createTree(doc);
  const t1 = performance.now();
  const result = await grove.runTree(tree.id, { concurrency });
  const t2 = performance.now();
  const done = result.tasks.filter((t) => t.status === "completed").length;
  if (result.status !== "completed" || done !== doc.tasks.length) {
    throw new Error(`grove: tree ${result.status}, ${done}/${doc.tasks.length} tasks completed`);
  }
  await grove.close();
  return { tasks: doc.tasks.length, enqueue_ms: t1 - t0, drain_ms: t2 - t1 };
}

/**
 * plainjob / plainjobs: enqueue is one transaction for the whole batch — plainjob's documented
 * `queue.addMany`; plainjobs 0.0.4 ships no addMany in its dist (only in its src), so its
 * `queue.add` calls are wrapped in one better-sqlite3 transaction on the same connection, which is
 * exactly what addMany does. A worker then claims and completes one job at a time. The run is
 * drained when the worker's onCompleted callback (called right after the job is marked done) has
 * fired n times.
 */
async function childPeer(system, dbPath, workers, n) {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(dbPath);
  let queue, defineWorker, table, doneStatus;
  if (system === "plainjob") {
    const pj = await import("plainjob");
    queue = pj.defineQueue({ connection: pj.better(db), logger: silent });
    defineWorker = pj.defineWorker;
    [table, doneStatus] = ["plainjob_jobs", 2];
  } else {
    const mod = await import("plainjobs");
    const pj = mod.defineQueue ? mod : mod.default;
    queue = pj.defineQueue({ connection: db, logger: silent });
    defineWorker = pj.defineWorker;
    [table, doneStatus] = ["plainjobs_jobs", "done"];
  }
  const addAll = queue.addMany
    ? (list) => queue.addMany("noop", list).ids.length
    : db.transaction((list) => {
        for (const d of list) queue.add("noop", d);
        return list.length;
      });
  const data = Array.from({ length: n }, () => ({}));
  let completed = 0;
  let t2 = 0;
  let drained;
  const allDone = new Promise((resolve) => (drained = resolve));
  const onCompleted = () => {
    if (++completed === n) {
      t2 = performance.now();
      drained();
    }
  };
  const ws = Array.from({ length: workers }, () => defineWorker("noop", async () => {}, { queue, logger: silent, onCompleted }));

  const t0 = performance.now();
  const added = addAll(data);
  const t1 = performance.now();
  if (added !== n) throw new Error(`${system}: enqueued ${added}/${n} jobs`);
  const running = ws.map((w) => w.start());
  await allDone;
  await Promise.all(ws.map((w) => w.stop()));
  await Promise.all(running);
  const done = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE status = ?`).get(doneStatus).n;
  if (done !== n) throw new Error(`${system}: ${done}/${n} jobs done`);
  queue.close();
  return { tasks: n, enqueue_ms: t1 - t0, drain_ms: t2 - t1 };
}

async function child([system, shape, concurrency, tasks]) {
  const n = Number(tasks);
  const c = Number(concurrency);
  const { dir, cleanup } = tempDir(`grove-bench-${system}-`);
  try {
    const dbPath = join(dir, "bench.db");
    const r = system === "grove" ? await childGrove(dbPath, shape, c, n) : await childPeer(system, dbPath, c, n);
    emit({ ...r, peak_rss_mb: peakRssMb() });
  } finally {
    cleanup();
  }
}

// ---- parent: orchestrate runs -----------------------------------------------------------------

function parseArgs(argv) {
  const opts = { runs: 5, tasks: 20_000, only: null, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") opts.runs = Number(argv[++i]);
    else if (a === "--tasks") opts.tasks = Number(argv[++i]);
    else if (a === "--only") opts.only = new Set(argv[++i].split(","));
    else if (a === "--profile") opts.profile = true;
    else throw new Error(`drain-sqlite: unknown argument ${a}`);
  }
  return opts;
}

/** What is measured, in the order of each round. Peers are flat queues, so only the flat shape. */
function configs(opts) {
  const all = [
    { system: "grove", shape: "flat", concurrency: 8 },
    { system: "grove", shape: "flat", concurrency: 64 },
    { system: "grove", shape: "fanout", concurrency: 8 },
    { system: "grove", shape: "fanout", concurrency: 64 },
    // One worker: the peers' documented usage (a worker processes one job at a time). Eight
    // workers in the same process and connection: not documented, but faster here, so it is
    // measured too and the ratios are taken against the faster of the two.
    { system: "plainjob", shape: "flat", concurrency: 1 },
    { system: "plainjobs", shape: "flat", concurrency: 1 },
    { system: "plainjob", shape: "flat", concurrency: 8 },
    { system: "plainjobs", shape: "flat", concurrency: 8 },
  ];
  return all.filter((c) => !opts.only || opts.only.has(c.system));
}

const key = (c) => `${c.system}/${c.shape}/${c.concurrency}`;

async function profile(opts) {
  const { dir, cleanup } = tempDir("grove-bench-prof-");
  try {
    for (const shape of ["flat", "fanout"]) {
      const args = ["--child", "grove", shape, "8", String(opts.tasks)];
      const r = await runChild(SELF, args, { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${join(dir, shape)}`], cwd: ROOT });
      const file = join(dir, shape, readdirSync(join(dir, shape)).find((f) => f.endsWith(".cpuprofile")));
      note(`\n# cpu profile: grove ${shape}, concurrency 8, ${r.tasks} tasks — enqueue ${round(r.enqueue_ms)} ms, drain ${round(r.drain_ms)} ms (profiling slows both)`);
      note("top self time by function:");
      for (const f of summarizeCpuProfile(file, 30)) note(`  ${String(f.pct).padStart(5)}%  ${String(f.self_ms).padStart(8)} ms  ${f.fn}`);
      note("self time by file:");
      for (const f of summarizeCpuProfileByFile(file, 15)) note(`  ${String(f.pct).padStart(5)}%  ${String(f.self_ms).padStart(8)} ms  ${f.file}`);
    }
  } finally {
    cleanup();
  }
}

export async function main(argv = []) {
  const opts = parseArgs(argv);
  if (opts.profile) return profile(opts);
  const list = configs(opts);
  const results = new Map(list.map((c) => [key(c), []]));
  const broken = new Map();
  const revision = gitRevision(ROOT);
  note(`drain-sqlite: ${opts.tasks} no-op tasks, ${opts.runs} runs per system, each a fresh process and SQLite file; grove ${revision}`);
  loadNote("at start");
  const build = snapshotBuild(ROOT);
  try {
    // Round-robin, so drift on the machine (thermal, other load) spreads over every system alike.
    for (let run = 1; run <= opts.runs; run++) {
      for (const c of list) {
        if (broken.has(key(c))) continue;
        const args = ["--child", c.system, c.shape, String(c.concurrency), String(opts.tasks)];
        try {
          const r = await runChild(SELF, args, { cwd: ROOT, env: { ...process.env, GROVE_BENCH_BUILD: build.root } });
          results.get(key(c)).push(r);
          note(`  run ${run} ${key(c).padEnd(18)} enqueue ${round(r.enqueue_ms).toString().padStart(8)} ms  drain ${round(r.drain_ms).toString().padStart(8)} ms  peak RSS ${r.peak_rss_mb} MB`);
        } catch (err) {
          broken.set(key(c), err);
          note(`  ${key(c)} failed, dropped from this run: ${err.message}`);
        }
      }
    }
  } finally {
    build.cleanup();
  }

  loadNote("at end");
  const rows = [];
  for (const c of list) {
    const rs = results.get(key(c));
    if (rs.length === 0) continue;
    const rss = median(rs.map((r) => r.peak_rss_mb));
    const metrics = {
      enqueue_drain_tasks_per_s: rs.map((r) => (r.tasks * 1000) / (r.enqueue_ms + r.drain_ms)),
      drain_tasks_per_s: rs.map((r) => (r.tasks * 1000) / r.drain_ms),
    };
    for (const [metric, runs] of Object.entries(metrics)) {
      rows.push({
        bench: BENCH,
        system: c.system,
        metric,
        median: round(median(runs)),
        unit: "tasks/s",
        runs: runs.map((v) => round(v)),
        shape: c.shape,
        concurrency: c.concurrency,
        ...(c.system === "grove" ? {} : { workers: c.concurrency }),
        tasks: rs[0].tasks,
        grove_revision: revision,
        enqueue_ms_median: round(median(rs.map((r) => r.enqueue_ms))),
        drain_ms_median: round(median(rs.map((r) => r.drain_ms))),
        peak_rss_mb: rss,
        peak_rss_mb_runs: rs.map((r) => r.peak_rss_mb),
      });
    }
  }
  // grove / peer, same metric, flat shape (the only shape the peers have): against the peer's
  // faster configuration (ratio_vs_<peer>), and against each worker count.
  for (const row of rows) {
    if (row.system !== "grove" || row.shape !== "flat") continue;
    for (const peer of ["plainjob", "plainjobs"]) {
      const ps = rows.filter((r) => r.system === peer && r.metric === row.metric);
      if (ps.length === 0) continue;
      const best = ps.reduce((a, b) => (b.median > a.median ? b : a));
      row[`ratio_vs_${peer}`] = round(row.median / best.median);
      row[`ratio_vs_${peer}_by_workers`] = Object.fromEntries(ps.map((p) => [p.concurrency, round(row.median / p.median)]));
    }
  }
  for (const row of rows) emit(row);

  for (const [k, err] of broken) note(`NOTE: ${k} did not complete: ${err.message}`);
  const g = rows.find((r) => r.system === "grove" && r.shape === "flat" && r.concurrency === 8 && r.metric === "drain_tasks_per_s");
  if (g) {
    const ok10k = g.median >= 10_000;
    const okPeer = g.ratio_vs_plainjob === undefined ? "n/a" : g.ratio_vs_plainjob >= 1 ? "yes" : "NO";
    note(`targets (grove flat, concurrency 8, drain): ≥ 10,000 tasks/s: ${ok10k ? "yes" : "NO"} (${g.median}); ≥ 1.0× plainjob: ${okPeer} (${g.ratio_vs_plainjob ?? "-"}×)`);
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
