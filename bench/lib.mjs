// Shared helpers for the benchmarks: statistics, one child process per run, result lines.
//
// Contract (docs/BENCHMARKS.md): every measured (system, metric) pair is printed to stdout as one
// JSON line `{"bench","system","metric","median","unit","runs",...extra}`; everything meant for
// humans goes to stderr.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

/** Median of a list of numbers (mean of the two middle values for an even count). */
export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile, p in (0, 100]. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1];
}

/** Rounds for printing: keeps 3 significant decimals for small numbers, 1 decimal for large. */
export function round(n, digits = n >= 100 ? 1 : 3) {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Prints one result line to stdout. */
export function emit(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

/** Human notes go to stderr so stdout stays machine-readable. */
export function note(...parts) {
  process.stderr.write(parts.join(" ") + "\n");
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix = "grove-bench-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Peak resident set size of this process so far, in MB (maxRSS is reported in KiB). */
export function peakRssMb() {
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

/**
 * Runs `node [nodeArgs] script args` in a fresh process and resolves with the JSON object on the
 * last non-empty stdout line. The child's stderr is passed through. Rejects on a non-zero exit or
 * when the child printed no JSON.
 */
export function runChild(script, args = [], { nodeArgs = [], env = process.env, cwd = process.cwd() } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], { cwd, env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== 0) return reject(new Error(`${script} ${args.join(" ")}: exited with ${signal ?? code}`));
      const last = out.trim().split("\n").filter(Boolean).pop();
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script} ${args.join(" ")}: no JSON result on stdout (got ${JSON.stringify(out.slice(-200))})`));
      }
    });
  });
}

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the top functions by self time, with
 * their share of the sampled time. `(garbage collector)`, `(program)` and `(idle)` are kept, as
 * they say where the time went too.
 */
export function summarizeCpuProfile(path, top = 25) {
  const prof = JSON.parse(readFileSync(path, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = prof.timeDeltas;
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const n = byId.get(prof.samples[i]);
    const dt = deltas[i] ?? 0;
    total += dt;
    const cf = n.callFrame;
    const file = cf.url ? cf.url.replace(/^file:\/\//, "").replace(process.cwd() + "/", "") : "";
    const key = `${cf.functionName || "(anonymous)"} ${file}${file ? `:${cf.lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, self_ms: round(us / 1000, 1), pct: round((100 * us) / total, 1) }));
}

/** Summarises the same profile by file (self time), which shows which layer dominates. */
export function summarizeCpuProfileByFile(path, top = 15) {
  const prof = JSON.parse(readFileSync(path, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const n = byId.get(prof.samples[i]);
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    const url = n.callFrame.url;
    const key = url ? url.replace(/^file:\/\//, "").replace(process.cwd() + "/", "") : n.callFrame.functionName || "(native)";
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([file, us]) => ({ file, self_ms: round(us / 1000, 1), pct: round((100 * us) / total, 1) }));
}

/** The 1/5/15-minute load averages, for the notes: other work on the machine skews every number. */
export function loadNote(when) {
  note(`load average ${when}: ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
}

/** The commit the numbers belong to, "+dirty" when the working tree has changes. */
export function gitRevision(cwd) {
  const rev = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" });
  if (rev.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, encoding: "utf8" });
  return rev.stdout.trim() + (dirty.stdout.trim() ? "+dirty" : "");
}

/**
 * Copies dist/ (and package.json) of `root` to a temp dir whose node_modules is a symlink to the
 * real one, so every child of a long benchmark runs the same build even when dist/ is rebuilt
 * meanwhile. Returns the snapshot's root and a cleanup function.
 */
export function snapshotBuild(root) {
  const { dir, cleanup } = tempDir("grove-bench-build-");
  cpSync(join(root, "dist"), join(dir, "dist"), { recursive: true });
  cpSync(join(root, "package.json"), join(dir, "package.json"));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  return { root: dir, cleanup };
}
