// Benchmark entry point: `npm run bench -- NAME [args]` (builds first, then runs bench/NAME.mjs).
// Results are JSON lines on stdout (one per system and metric); notes go to stderr.
// See docs/BENCHMARKS.md.
const BENCHES = {
  "drain-sqlite": () => import("./drain-sqlite.mjs"),
  "cli-startup": () => import("./cli-startup.mjs"),
  "drain-pg": () => import("./drain-pg.mjs"),
  "latency-pg": () => import("./latency-pg.mjs"),
  "scheduler-latency": () => import("./scheduler-latency.mjs"),
  "schedules-claim": () => import("./schedules-claim.mjs"),
  "policy-check": () => import("./agent.mjs").then((m) => ({ main: m.policyCheck })),
  "agent-step": () => import("./agent.mjs").then((m) => ({ main: m.agentStep })),
  api: () => import("./api.mjs"),
  dashboard: () => import("./dashboard.mjs"),
};

const [name, ...args] = process.argv.slice(2);
const load = BENCHES[name];
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join("|")}> [args]\n`);
  process.exit(2);
}
try {
  const mod = await load();
  await mod.main(args);
} catch (err) {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
}
