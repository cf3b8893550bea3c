// api: the HTTP API of `grove serve` under many concurrent clients on loopback (autocannon).
//   - execute: POST /rpc tasks.execute of a one-task tree (an `aggregate` task: no child process),
//     each request runs its tree to the end in the server process;
//   - sse: GET /trees/:id/events of a finished tree (each request streams its stored events and
//     the stream ends).
// The server runs in this process on a fresh SQLite file, with rate limiting off.
//
//   npm run bench -- api [--connections 200] [--duration 10]
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { emit, gitRevision, note, tempDir } from "./lib.mjs";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const dist = (p) => pathToFileURL(join(ROOT, "dist", p)).href;

function parseArgs(argv) {
  const opts = { connections: 200, duration: 10 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--connections") opts.connections = Number(argv[++i]);
    else if (argv[i] === "--duration") opts.duration = Number(argv[++i]);
    else throw new Error(`api: unknown argument ${argv[i]}`);
  }
  return opts;
}

export async function main(argv = []) {
  const opts = parseArgs(argv);
  const { default: autocannon } = await import("autocannon");
  const { createServer } = await import(dist("server/app.js"));
  const { openStore } = await import(dist("store/index.js"));
  const { globalRegistry } = await import(dist("core/registry.js"));
  const { registerBuiltins } = await import(dist("executors/index.js"));
  const { DEFAULT_SETTINGS } = await import(dist("core/executor.js"));
  const { dir, cleanup } = tempDir();
  const db = join(dir, "api.db");
  const store = await openStore(db);
  const registry = globalRegistry.clone();
  registerBuiltins(registry);
  const server = await createServer({ store, registry, settings: DEFAULT_SETTINGS, dbSpec: db, rateLimit: { perSecond: 0, burst: 1 }, workerConcurrency: 0, mcp: false });
  try {
    const url = await server.listen(0, "127.0.0.1");
    const { key } = await server.services.keys.create({ name: "bench", scope: "bench" });
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks.execute", params: { tree: { name: "b", tasks: [{ name: "a", executor: "aggregate" }] } } });
    const first = await (await fetch(`${url}/rpc`, { method: "POST", headers, body })).json();
    if (first.result?.status !== "completed") throw new Error(`api: tasks.execute answered ${JSON.stringify(first)}`);
    const cases = [
      { metric: "execute", run: { url: `${url}/rpc`, method: "POST", headers, body } },
      { metric: "sse", run: { url: `${url}/trees/${first.result.tree_id}/events`, headers: { authorization: headers.authorization } } },
    ];
    const rev = gitRevision?.() ?? null;
    for (const c of cases) {
      note(`api: ${c.metric}: ${opts.connections} connections for ${opts.duration}s`);
      const r = await autocannon({ ...c.run, connections: opts.connections, duration: opts.duration });
      const errors = r.errors + r.timeouts + (r.non2xx ?? 0);
      emit({ bench: "api", system: "grove", metric: `${c.metric}_requests_per_s`, median: r.requests.average, unit: "req/s", runs: 1, connections: opts.connections, duration_s: opts.duration, errors, rev });
      emit({ bench: "api", system: "grove", metric: `${c.metric}_p99_ms`, median: r.latency.p99, unit: "ms", runs: 1, connections: opts.connections, duration_s: opts.duration, errors, rev });
    }
  } finally {
    await server.close();
    await store.close();
    cleanup();
  }
}
