// scheduler-latency: N oneshot schedules due over the next ~10 s, one `grove scheduler` process
// on a fresh SQLite file; how late each run starts after its due time. See docs/BENCHMARKS.md.
//
//   npm run bench -- scheduler-latency [--runs 3] [--schedules 1000] [--spread-ms 10000] [--lead-ms 3000]
//
// Per run: a fresh temp dir and SQLite file; `node dist/cli/main.cjs scheduler --db FILE --json` is
// spawned (from a frozen copy of dist, see snapshotBuild) and waited for until it says `ready`;
// then this process adds the schedules through the ScheduleStore API (`schedulesOf(store).add`),
// oneshot with `at` = start + lead + i·spread/N, target the command line `executors list --json`
// (dispatched in-process by the scheduler; it prints one JSON item). When the scheduler has
// reported N `finished` runs it is stopped (SIGTERM) and the store is read:
//   start latency      = schedule_runs.started_at − due_at (the claim that started the run)
//   first-item latency = at of the run's first stored item − due_at (the target has produced output)
import { spawn } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { emit, gitRevision, loadNote, median, note, percentile, round, snapshotBuild, tempDir } from "./lib.mjs";

const BENCH = "scheduler-latency";
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, "..", "..");
const TARGET = ["executors", "list", "--json"];

function parseArgs(argv) {
  const opts = { runs: 3, schedules: 1000, spreadMs: 10_000, leadMs: 3000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") opts.runs = Number(argv[++i]);
    else if (a === "--schedules") opts.schedules = Number(argv[++i]);
    else if (a === "--spread-ms") opts.spreadMs = Number(argv[++i]);
    else if (a === "--lead-ms") opts.leadMs = Number(argv[++i]);
    else throw new Error(`${BENCH}: unknown argument ${a}`);
  }
  return opts;
}

/** Spawns the scheduler; resolves once it printed `ready`. `finished` counts its finished runs. */
function startScheduler(build, dbPath) {
  const child = spawn(process.execPath, [join(build, "dist", "cli", "main.cjs"), "scheduler", "--db", dbPath, "--json"], {
    cwd: ROOT,
    env: { ...process.env, GROVE_DATABASE_URL: "", GROVE_SCOPE: "" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const state = { child, finished: 0, failed: 0, onFinished: () => {} };
  let buf = "";
  const ready = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => reject(new Error(`scheduler exited early (${signal ?? code})`)));
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
          if (!ev.success) state.failed++;
          state.onFinished();
        }
      }
    });
  });
  state.ready = ready;
  state.exited = new Promise((resolve) => child.on("exit", resolve));
  return state;
}

async function oneRun(build, opts) {
  const { dir, cleanup } = tempDir("grove-bench-sched-");
  const dbPath = join(dir, "bench.db");
  const { openStore } = await import(pathToFileURL(join(build, "dist", "store", "index.js")).href);
  const { schedulesOf } = await import(pathToFileURL(join(build, "dist", "store", "schedule-store.js")).href);
  // The scheduler opens (and migrates) the file; this process opens it once it is ready.
  const sched = startScheduler(build, dbPath);
  let store;
  try {
    await sched.ready;
    store = await openStore(dbPath);
    const schedules = schedulesOf(store);
    const n = opts.schedules;
    const base = Date.now() + opts.leadMs;
    const dues = Array.from({ length: n }, (_, i) => base + Math.floor((i * opts.spreadMs) / n));
    const spec = { kind: "oneshot", every_ms: null, cron: null, tz: null, max_runs: null, start_at: null, end_at: null };
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await schedules.add({ ...spec, at: dues[i], owner: "", name: `lat-${i}`, target: { type: "argv", argv: TARGET } }, { overwrite: false });
    }
    const addMs = performance.now() - t0;
    const addedLate = Date.now() > base;
    if (addedLate) note(`  NOTE: adding took ${round(addMs)} ms, past the first due time (lead ${opts.leadMs} ms): early runs are late by that`);

    const deadline = dues[n - 1] + 60_000;
    await new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        if (Date.now() > deadline) {
          clearInterval(timer);
          reject(new Error(`only ${sched.finished}/${n} runs finished 60 s after the last due time`));
        }
      }, 250);
      sched.onFinished = () => {
        if (sched.finished >= n) {
          clearInterval(timer);
          resolve();
        }
      };
      sched.onFinished();
    });
    sched.child.kill("SIGTERM");
    await sched.exited;

    const runs = await schedules.runs({ scope: "" });
    if (runs.length !== n) throw new Error(`${runs.length} runs for ${n} schedules`);
    const items = await schedules.items(runs.map((r) => r.id));
    const firstAt = new Map();
    for (const it of items) if (!firstAt.has(it.run_id) || it.seq < firstAt.get(it.run_id).seq) firstAt.set(it.run_id, it);
    const start = runs.map((r) => r.started_at - r.due_at);
    const firstItem = runs.map((r) => firstAt.get(r.id).at - r.due_at);
    const failed = runs.filter((r) => r.status !== "succeeded").length;
    return { schedules: n, add_ms: addMs, added_late: addedLate, failed, start, firstItem };
  } finally {
    if (sched.child.exitCode === null && sched.child.signalCode === null) {
      sched.child.kill("SIGKILL");
      await sched.exited;
    }
    await store?.close();
    cleanup();
  }
}

const stats = (xs) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99), max: Math.max(...xs) });

export async function main(argv = []) {
  const opts = parseArgs(argv);
  const revision = gitRevision(ROOT);
  note(`${BENCH}: ${opts.schedules} oneshot schedules due over ${opts.spreadMs} ms (first ${opts.leadMs} ms after adding starts), target \`${TARGET.join(" ")}\`, one \`grove scheduler\` on a fresh SQLite file, ${opts.runs} runs; grove ${revision}`);
  loadNote("at start");
  const build = snapshotBuild(ROOT);
  const results = [];
  try {
    for (let run = 1; run <= opts.runs; run++) {
      const r = await oneRun(build.root, opts);
      const s = stats(r.start);
      const f = stats(r.firstItem);
      note(
        `  run ${run}: added in ${round(r.add_ms)} ms; start latency p50 ${s.p50} p95 ${s.p95} p99 ${s.p99} max ${s.max} ms; first item p50 ${f.p50} p95 ${f.p95} p99 ${f.p99} max ${f.max} ms; ${r.failed} failed`,
      );
      results.push({ ...r, s, f });
    }
  } finally {
    build.cleanup();
  }
  loadNote("at end");
  const common = {
    store: "sqlite",
    schedules: opts.schedules,
    spread_ms: opts.spreadMs,
    target: TARGET.join(" "),
    grove_revision: revision,
    add_ms_runs: results.map((r) => round(r.add_ms)),
    failed_runs: results.map((r) => r.failed),
  };
  for (const [prefix, key] of [["start_latency", "s"], ["first_item_latency", "f"]]) {
    for (const p of ["p50", "p95", "p99", "max"]) {
      const runs = results.map((r) => r[key][p]);
      emit({ bench: BENCH, system: "grove", metric: `${prefix}_${p}_ms`, median: round(median(runs)), unit: "ms", runs, ...common });
    }
  }
  const p99 = median(results.map((r) => r.s.p99));
  note(`target (issue 4: fires within 1 s of the due time): start latency p99 ${p99} ms → ${p99 <= 1000 ? "yes" : "NO"}`);
}

const isMain = process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
