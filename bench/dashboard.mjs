// dashboard: a tree of 1,000 tasks in the dashboard (chromium, headless) while its events stream.
//   - render_ms: from opening the tree's page to every node drawn;
//   - frame_ms: requestAnimationFrame deltas in the page while the tree runs and the page applies
//     its events live (median and p95; a frame of the display is ~16.7 ms);
// A `gate` task (a command waiting for a file) holds the tree until the page has drawn it; the
// other tasks are `aggregate` (no child process), in layers of 50, each depending on one task of
// the layer before. The server runs in this process on a fresh SQLite file.
//
//   npm run bench -- dashboard [--tasks 1000] [--smoke]      (--smoke: 200 tasks)
// The functions given to page.evaluate / waitForFunction run in the browser:
/* global document, window, performance, requestAnimationFrame */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { emit, gitRevision, median, note, percentile, round, tempDir } from "./lib.mjs";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const dist = (p) => pathToFileURL(join(ROOT, "dist", p)).href;
const CHROMIUM = process.env.GROVE_CHROMIUM ?? "/usr/bin/chromium";

function parseArgs(argv) {
  const opts = { tasks: 1000 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--tasks") opts.tasks = Number(argv[++i]);
    else if (argv[i] === "--smoke") opts.tasks = 200;
    else throw new Error(`dashboard: unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(opts.tasks) || opts.tasks < 2) throw new Error("dashboard: --tasks must be an integer ≥ 2");
  return opts;
}

function benchTree(n, gateFile) {
  const width = 50;
  const tasks = [{ name: "gate", executor: "command", inputs: { command: `while [ ! -f '${gateFile}' ]; do sleep 0.05; done` } }];
  for (let i = 1; i < n; i++) {
    const layer = Math.floor((i - 1) / width);
    const dep = layer === 0 ? "gate" : `t${i - width}`;
    tasks.push({ name: `t${i}`, executor: "aggregate", dependencies: [dep] });
  }
  return { name: `bench-${n}`, tasks };
}

export async function main(argv = []) {
  const opts = parseArgs(argv);
  if (!existsSync(CHROMIUM)) throw new Error(`dashboard: no ${CHROMIUM} (apt-get install chromium)`);
  if (!existsSync(join(ROOT, "dist/web/index.html"))) throw new Error("dashboard: dist/web is missing (npm run build)");
  const { chromium } = await import("playwright-core");
  const { createServer } = await import(dist("server/app.js"));
  const { openStore } = await import(dist("store/index.js"));
  const { globalRegistry } = await import(dist("core/registry.js"));
  const { registerBuiltins } = await import(dist("executors/index.js"));
  const { DEFAULT_SETTINGS } = await import(dist("core/executor.js"));
  const { dir, cleanup } = tempDir();
  const db = join(dir, "dashboard.db");
  const store = await openStore(db);
  const registry = globalRegistry.clone();
  registerBuiltins(registry);
  const server = await createServer({ store, registry, settings: DEFAULT_SETTINGS, dbSpec: db, rateLimit: { perSecond: 0, burst: 1 }, mcp: false });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    const url = await server.listen(0, "127.0.0.1");
    const { key } = await server.services.keys.create({ name: "bench", scope: "bench" });
    const gate = join(dir, "go");
    const res = await fetch(`${url}/rpc`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks.create", params: { tree: benchTree(opts.tasks, gate) } }),
    });
    const created = (await res.json()).result;
    if (!created?.tree_id) throw new Error("dashboard: tasks.create failed");
    const total = created.tasks.length; // with the root the loader adds
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(`${url}/login`);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("navigation", { name: "Sections" }).waitFor();

    note(`dashboard: ${total} tasks`);
    const opened = Date.now();
    await page.goto(`${url}/trees/${created.tree_id}`);
    await page.waitForFunction((n) => document.querySelectorAll("svg.dag a.node").length === n, total, { timeout: 120_000, polling: 50 });
    const renderMs = Date.now() - opened;

    await page.evaluate(() => {
      const w = window;
      w.__frames = [];
      let last = performance.now();
      const tick = (t) => {
        w.__frames.push(t - last);
        last = t;
        if (!w.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const started = Date.now();
    writeFileSync(gate, "");
    await page.waitForFunction(() => document.querySelector(".head-status .status")?.textContent === "completed", null, { timeout: 300_000, polling: 100 });
    const runMs = Date.now() - started;
    const frames = await page.evaluate(() => {
      window.__stop = true;
      return window.__frames.slice(1);
    });
    const done = await page.evaluate(() => document.querySelectorAll('svg.dag a.node[data-status="completed"]').length);
    if (done !== total) throw new Error(`dashboard: ${done} of ${total} nodes show completed`);
    const events = (await store.events({ treeId: created.tree_id, limit: 1_000_000 })).length;
    const rev = gitRevision?.(ROOT) ?? null;
    const extra = { tasks: total, events, run_ms: runMs, rev };
    emit({ bench: "dashboard", system: "grove", metric: "render_ms", median: renderMs, unit: "ms", runs: 1, ...extra });
    emit({ bench: "dashboard", system: "grove", metric: "frame_ms", median: round(median(frames)), p95: round(percentile(frames, 95)), max: round(Math.max(...frames)), unit: "ms", runs: frames.length, ...extra });
    note(`dashboard: drawn in ${renderMs} ms; ${events} events over ${runMs} ms; frame median ${round(median(frames))} ms, p95 ${round(percentile(frames, 95))} ms (${frames.length} frames)`);
  } finally {
    await browser.close();
    await server.close();
    await store.close();
    cleanup();
  }
}
