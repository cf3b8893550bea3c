// cli-startup: wall time of short CLI invocations, each a fresh `node` process, measured from
// spawn to exit by the parent. `node -e 0` is the floor every Node CLI pays.
//
//   npm run bench -- cli-startup [--runs 20] [--warmup 2]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { emit, gitRevision, loadNote, median, note, percentile, round, tempDir } from "./lib.mjs";

const BENCH = "cli-startup";
const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const MAIN = join(ROOT, "dist", "cli", "main.cjs");

const CASES = [
  { system: "node", metric: "node_e_0_wall_ms", args: ["-e", "0"], label: "node -e 0" },
  { system: "grove", metric: "version_wall_ms", args: [MAIN, "--version"], label: "node dist/cli/main.cjs --version" },
  { system: "grove", metric: "executors_list_wall_ms", args: [MAIN, "executors", "list"], label: "node dist/cli/main.cjs executors list" },
];

function parseArgs(argv) {
  const opts = { runs: 20, warmup: 2 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--runs") opts.runs = Number(argv[++i]);
    else if (argv[i] === "--warmup") opts.warmup = Number(argv[++i]);
    else throw new Error(`cli-startup: unknown argument ${argv[i]}`);
  }
  return opts;
}

function once(args, cwd) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 500)}`);
  return ms;
}

export async function main(argv = []) {
  const opts = parseArgs(argv);
  // An empty working directory, so no .grove/ of the repo is picked up.
  const { dir, cleanup } = tempDir("grove-bench-cli-");
  try {
    const revision = gitRevision(ROOT);
    note(`cli-startup: ${opts.warmup} warm-ups then ${opts.runs} runs per command, wall time spawn → exit; grove ${revision}`);
    loadNote("at start");
    const times = new Map(CASES.map((c) => [c.metric, []]));
    for (const c of CASES) for (let i = 0; i < opts.warmup; i++) once(c.args, dir);
    // Interleaved, so machine drift hits every command alike.
    for (let i = 0; i < opts.runs; i++) for (const c of CASES) times.get(c.metric).push(once(c.args, dir));
    loadNote("at end");
    const floor = median(times.get("node_e_0_wall_ms"));
    for (const c of CASES) {
      const runs = times.get(c.metric);
      const m = median(runs);
      emit({
        bench: BENCH,
        system: c.system,
        metric: c.metric,
        median: round(m, 1),
        unit: "ms",
        runs: runs.map((v) => round(v, 1)),
        p90: round(percentile(runs, 90), 1),
        command: c.label,
        grove_revision: revision,
        ...(c.system === "node" ? {} : { over_node_ms: round(m - floor, 1) }),
      });
      note(`  ${c.label.padEnd(40)} median ${round(m, 1)} ms  p90 ${round(percentile(runs, 90), 1)} ms`);
    }
    const v = median(times.get("version_wall_ms"));
    note(`target: grove --version median < 150 ms: ${v < 150 ? "yes" : "NO"} (${round(v, 1)} ms)`);
  } finally {
    cleanup();
  }
}

const isMain = process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
