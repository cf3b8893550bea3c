// The agent's two hot paths (DESIGN §9). See docs/BENCHMARKS.md for the result-line contract.
//
//   npm run bench -- policy-check [--runs 5] [--decisions 20000]
//     decisions/s of the command policy over a mixed corpus (simple commands, pipelines, wrappers,
//     substitutions, paths) under mixed restrictions. Target: ≥ 5,000 decisions/s.
//
//   npm run bench -- agent-step [--runs 5] [--steps 200]
//     per-step overhead of the agent loop (one model call through the AI SDK, the policy gate,
//     the tool call, the bookkeeping) against an instant in-process model (ai/test's
//     MockLanguageModelV3) and an in-memory machine, so neither network nor processes are timed.
//     Target: ≤ 5 ms per step.
import { join } from "node:path";
import { ReadableStream } from "node:stream/web";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { emit, gitRevision, loadNote, median, note, round } from "./lib.mjs";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const dist = (p) => pathToFileURL(join(ROOT, "dist", p)).href;

function parseArgs(name, argv, defaults) {
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in opts)) throw new Error(`${name}: unknown argument ${argv[i]}`);
    opts[key] = Number(argv[++i]);
    if (!Number.isInteger(opts[key]) || opts[key] < 1) throw new Error(`${name}: --${key} must be a positive integer`);
  }
  return opts;
}

const CORPUS = [
  "ls -la /var/log",
  "cat /etc/hostname | grep -v '^#' | wc -l",
  "sudo systemctl restart nginx",
  "rm -rf /tmp/work/cache && mkdir -p /tmp/work/cache",
  "find /tmp/work -name '*.log' -mtime +7 -delete",
  "echo $(whoami) > /tmp/work/me.txt",
  "bash -c 'cd /tmp/work && tar czf backup.tgz data'",
  "env FOO=1 timeout 10 nice -n 5 python3 script.py --input /tmp/work/in.json",
  "git status && git log --oneline -5",
  "curl -s http://localhost:8080/health || systemctl status app",
  "for f in /tmp/work/*.txt; do cp \"$f\" /tmp/work/bak/; done",
  "xargs rm < /tmp/work/list.txt",
  "ssh db-1 'df -h'",
  "journalctl -u app --since '1 hour ago' | tail -100",
  "shutdown -h now",
  "cd /tmp/work/../etc && cat passwd",
];
const RESTRICTIONS = [
  {},
  { no_sudo: true, no_delete: true },
  { dry_run: true },
  { allowed_dirs: ["/tmp/work"], read_only_dirs: ["/var/log", "/etc"], forbidden_commands: ["rm -rf /", "shutdown"] },
  { no_sudo: true, require_approval: ["systemctl restart", "git push"] },
];

export async function policyCheck(argv = []) {
  const opts = parseArgs("policy-check", argv, { runs: 5, decisions: 20_000 });
  const { loadPolicy } = await import(dist("agent/policy/index.js"));
  const policy = await loadPolicy();
  const revision = gitRevision(ROOT);
  note(`policy-check: ${opts.runs} runs of ${opts.decisions} decisions over ${CORPUS.length} commands × ${RESTRICTIONS.length} restriction sets; grove ${revision}`);
  loadNote("at start");
  const counts = { allow: 0, deny: 0, ask: 0, simulate: 0 };
  for (let i = 0; i < CORPUS.length * RESTRICTIONS.length; i++) counts[policy.check(CORPUS[i % CORPUS.length], RESTRICTIONS[i % RESTRICTIONS.length], { cwd: "/tmp/work" }).decision]++; // warm-up
  // More warm-up, so the first measured run is not the one where the JIT compiles the policy.
  for (let i = 0; i < Math.min(opts.decisions, 2000); i++) policy.check(CORPUS[i % CORPUS.length], RESTRICTIONS[(i * 7) % RESTRICTIONS.length], { cwd: "/tmp/work" });
  const rates = [];
  for (let r = 0; r < opts.runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < opts.decisions; i++) policy.check(CORPUS[i % CORPUS.length], RESTRICTIONS[(i * 7) % RESTRICTIONS.length], { cwd: "/tmp/work" });
    rates.push(opts.decisions / ((performance.now() - t0) / 1000));
  }
  loadNote("at end");
  const m = median(rates);
  emit({ bench: "policy-check", system: "grove", metric: "decisions_per_s", median: round(m, 0), unit: "decisions/s", runs: rates.map((v) => round(v, 0)), decisions: opts.decisions, corpus: CORPUS.length * RESTRICTIONS.length, decision_mix: counts, grove_revision: revision });
  note(`target: ≥ 5,000 decisions/s: ${m >= 5000 ? "yes" : "NO"} (${round(m, 0)})`);
}

/** A machine that answers from memory: the bench times the loop, not the filesystem. */
const memoryMachine = {
  name: "memory",
  kind: "local",
  labels: {},
  exec: async () => ({ exitCode: 0, signal: null, stdout: "", stderr: "", timedOut: false, aborted: false, truncated: false, durationMs: 0 }),
  readFile: async () => "hello\n",
  writeFile: async () => undefined,
  listDir: async () => [],
  close: async () => undefined,
};

export async function agentStep(argv = []) {
  const opts = parseArgs("agent-step", argv, { runs: 5, steps: 200 });
  const [{ runAgent }, { MockLanguageModelV3 }] = await Promise.all([import(dist("agent/run.js")), import("ai/test")]);
  const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
  const model = (steps) => {
    let n = 0;
    return new MockLanguageModelV3({
      doStream: async () => {
        n++;
        const done = n > steps;
        const call = done
          ? { type: "tool-call", toolCallId: `c${n}`, toolName: "final_answer", input: JSON.stringify({ success: true, summary: `${steps} steps` }) }
          : { type: "tool-call", toolCallId: `c${n}`, toolName: "read_file", input: JSON.stringify({ path: "/tmp/work/file.txt" }) };
        const parts = [{ type: "stream-start", warnings: [] }, call, { type: "finish", finishReason: { unified: "tool-calls", raw: "tool_calls" }, usage }];
        return { stream: new ReadableStream({ start: (c) => (parts.forEach((p) => c.enqueue(p)), c.close()) }) };
      },
    });
  };
  const revision = gitRevision(ROOT);
  note(`agent-step: ${opts.runs} runs of ${opts.steps} steps (read_file on an in-memory machine, instant mock model); grove ${revision}`);
  loadNote("at start");
  const once = async (steps) => {
    const t0 = performance.now();
    const r = await runAgent({ prompt: "bench", model: model(steps), machine: memoryMachine, cwd: "/tmp/work", maxSteps: steps + 1, restrictions: { allowed_dirs: ["/tmp/work"] } });
    const ms = performance.now() - t0;
    if (r.status !== "completed") throw new Error(`agent-step: run ended ${r.status}: ${r.error?.message}`);
    return ms / (steps + 1);
  };
  await once(Math.min(20, opts.steps)); // warm-up: module loading, JIT
  const per = [];
  for (let r = 0; r < opts.runs; r++) per.push(await once(opts.steps));
  loadNote("at end");
  const m = median(per);
  emit({ bench: "agent-step", system: "grove", metric: "ms_per_step", median: round(m, 3), unit: "ms", runs: per.map((v) => round(v, 3)), steps: opts.steps, grove_revision: revision });
  note(`target: ≤ 5 ms per step: ${m <= 5 ? "yes" : "NO"} (${round(m, 3)} ms; the whole conversation is resent every step)`);
}
