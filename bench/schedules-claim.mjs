// schedules-claim: one store with N schedules of which D are due; the time of ONE claim of the due
// ones (`schedulesOf(store).claimDue`, the claim `grove schedules run` and `grove scheduler` make),
// and of a claim with nothing due (what an idle scheduler pays). See docs/BENCHMARKS.md.
//
//   npm run bench -- schedules-claim [--runs 5] [--schedules 100000] [--due 1000] [--noop-runs 21]
//
// One fresh child process and SQLite file (from a frozen copy of dist, see snapshotBuild):
// - the N − D schedules that are not due (oneshot, at 2100-01-01) are inserted with the store's own
//   SQL statements (insert_version.sql + upsert_schedule.sql, what `add` runs) in ONE transaction,
//   because the API's one-transaction-per-add costs ~0.7 ms each (~70 s for 100,000);
// - before each measured claim, the D due ones (oneshot, at = a second ago) are (re)added through
//   the API, `add` with overwrite: a new version each time, whose firing state starts over;
// - claimDue({ limit: D }) is timed alone; it must return D runs. Then, with nothing due, claimDue
//   is timed --noop-runs times.
//
// Child mode (one JSON line on stdout):
//   node bench/schedules-claim.mjs --child <schedules> <due> <runs> <noop-runs>
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { emit, gitRevision, loadNote, median, note, round, runChild, snapshotBuild, tempDir } from "./lib.mjs";

const BENCH = "schedules-claim";
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, "..", "..");
const BUILD = process.env.GROVE_BENCH_BUILD ?? ROOT;
const TARGET = { type: "argv", argv: ["executors", "list", "--json"] };
const SPEC = { kind: "oneshot", every_ms: null, cron: null, tz: null, max_runs: null, start_at: null, end_at: null };
const FAR = Date.UTC(2100, 0, 1);

async function child([schedules, due, runs, noopRuns]) {
  const [n, d, r, nr] = [schedules, due, runs, noopRuns].map(Number);
  const dist = (p) => pathToFileURL(join(BUILD, "dist", p)).href;
  const { openStore } = await import(dist("store/index.js"));
  const { schedulesOf } = await import(dist("store/schedule-store.js"));
  const { firstDue } = await import(dist("schedules/due.js"));
  const sqlFile = (name) => readFileSync(join(BUILD, "dist", "store", "sqlite", "schedules", `${name}.sql`), "utf8");
  const { dir, cleanup } = tempDir("grove-bench-claim-");
  const store = await openStore(join(dir, "bench.db"));
  try {
    const s = schedulesOf(store);
    const db = store.db;
    const insertVersion = db.prepare(sqlFile("insert_version"));
    const upsert = db.prepare(sqlFile("upsert_schedule"));
    const now0 = Date.now();
    const target = JSON.stringify(TARGET);
    const t0 = performance.now();
    db.transaction(() => {
      for (let i = 0; i < n - d; i++) {
        const def = { ...SPEC, at: FAR };
        const v = insertVersion.get({ owner: "", name: `idle-${i}`, ...def, target, now: now0 });
        upsert.run({ owner: "", name: `idle-${i}`, version_id: v.id, version: v.version, enabled: 1, next_due_at: firstDue(def, now0), now: now0 });
      }
    }).immediate();
    const insertMs = performance.now() - t0;
    db.pragma("optimize");

    const claimMs = [];
    const readdMs = [];
    for (let run = 0; run < r; run++) {
      const t1 = performance.now();
      const at = Date.now() - 1000;
      for (let i = 0; i < d; i++) await s.add({ ...SPEC, at, owner: "", name: `due-${i}`, target: TARGET }, { overwrite: true });
      readdMs.push(performance.now() - t1);
      const t2 = performance.now();
      const claimed = await s.claimDue({ scope: "", runner: "bench", leaseMs: 30_000, limit: d });
      claimMs.push(performance.now() - t2);
      if (claimed.length !== d) throw new Error(`claim ${run + 1}: claimed ${claimed.length}/${d}`);
    }
    const noopMs = [];
    for (let i = 0; i < nr; i++) {
      const t = performance.now();
      const claimed = await s.claimDue({ scope: "", runner: "bench", leaseMs: 30_000, limit: d });
      noopMs.push(performance.now() - t);
      if (claimed.length !== 0) throw new Error(`no-op claim claimed ${claimed.length}`);
    }
    const count = db.prepare("SELECT count(*) AS n FROM schedules").get().n;
    if (count !== n) throw new Error(`${count} schedules in the store, expected ${n}`);
    return { schedules: n, due: d, insert_ms: insertMs, readd_ms: readdMs, claim_ms: claimMs, noop_ms: noopMs };
  } finally {
    await store.close();
    cleanup();
  }
}

function parseArgs(argv) {
  const opts = { runs: 5, schedules: 100_000, due: 1000, noopRuns: 21 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") opts.runs = Number(argv[++i]);
    else if (a === "--schedules") opts.schedules = Number(argv[++i]);
    else if (a === "--due") opts.due = Number(argv[++i]);
    else if (a === "--noop-runs") opts.noopRuns = Number(argv[++i]);
    else throw new Error(`${BENCH}: unknown argument ${a}`);
  }
  if (!(opts.due <= opts.schedules)) throw new Error(`${BENCH}: --due must be at most --schedules`);
  return opts;
}

export async function main(argv = []) {
  const opts = parseArgs(argv);
  const revision = gitRevision(ROOT);
  note(`${BENCH}: ${opts.schedules} schedules on a fresh SQLite file, ${opts.due} due; ${opts.runs} claims of the due ones (re-added between claims), ${opts.noopRuns} claims with none due; grove ${revision}`);
  loadNote("at start");
  const build = snapshotBuild(ROOT);
  let r;
  try {
    r = await runChild(SELF, ["--child", opts.schedules, opts.due, opts.runs, opts.noopRuns].map(String), { cwd: ROOT, env: { ...process.env, GROVE_BENCH_BUILD: build.root } });
  } finally {
    build.cleanup();
  }
  loadNote("at end");
  note(`  inserted ${r.schedules - r.due} not-due schedules in one transaction in ${round(r.insert_ms)} ms; re-adding the ${r.due} due ones (API) took ${r.readd_ms.map((v) => round(v)).join(", ")} ms`);
  note(`  claims of ${r.due} due: ${r.claim_ms.map((v) => round(v)).join(", ")} ms; with none due: median ${round(median(r.noop_ms))} ms`);
  const common = { store: "sqlite", schedules: r.schedules, grove_revision: revision, insert_ms: round(r.insert_ms), insert: "one SQL transaction (the store's insert_version + upsert_schedule statements)" };
  const claimMed = median(r.claim_ms);
  emit({ bench: BENCH, system: "grove", metric: "claim_due_ms", median: round(claimMed), unit: "ms", runs: r.claim_ms.map((v) => round(v)), due: r.due, claimed_per_s: round((r.due * 1000) / claimMed), ...common });
  emit({ bench: BENCH, system: "grove", metric: "claim_none_due_ms", median: round(median(r.noop_ms)), unit: "ms", runs: r.noop_ms.map((v) => round(v)), due: 0, ...common });
}

const isMain = process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") {
    child(argv.slice(1)).then(
      (r) => {
        emit(r);
        process.exit(0);
      },
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
